package org.maejvm.bench.blas;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * JavaCPP's bundled OpenBLAS ({@code org.bytedeco:openblas}, the BLAS-only {@code openblas_nolapack} build)
 * through its JNI binding.
 *
 * <p>Operands go in as direct {@link FloatBuffer}s over off-heap segments, which JavaCPP passes by address.
 * Its {@code float[]} overloads copy every array in and out on each call (JNI array elements), which at 512³
 * halves the measured speed; that, plus OpenBLAS worker threads of another copy still spinning, is what made
 * this build look slow at first.
 */
public final class JavacppOpenBlas implements Sgemm {
    private static final int ROW_MAJOR = openblas_nolapack.CblasRowMajor;
    private static final int NO_TRANS = openblas_nolapack.CblasNoTrans;
    private static final int TRANS = openblas_nolapack.CblasTrans;

    private final String jniLibrary;
    /** FFM view of the same loaded library, for version and thread queries; null if its file is not found. */
    private final OpenBlasInfo info;

    private JavacppOpenBlas(String jniLibrary, OpenBlasInfo info) {
        this.jniLibrary = jniLibrary;
        this.info = info;
    }

    /** Extracts (first time) and loads the bundled native libraries. */
    public static JavacppOpenBlas load() {
        String jni = Loader.load(openblas_nolapack.class);
        return new JavacppOpenBlas(jni, findInfo(jni));
    }

    /** The BLAS library JavaCPP extracted sits next to its JNI library; loading it again by path reuses it. */
    private static OpenBlasInfo findInfo(String jni) {
        if (jni == null) return null;
        Path lib = Path.of(jni).resolveSibling("libopenblas_nolapack.so.0");
        if (!Files.isRegularFile(lib)) return null;
        try {
            return new OpenBlasInfo(SymbolLookup.libraryLookup(lib, Arena.global()));
        } catch (RuntimeException e) {
            return null;
        }
    }

    @Override
    public String name() { return "javacpp"; }

    @Override
    public String describe() {
        String what = info != null ? info.describe() : "OpenBLAS " + openblas_nolapack.OPENBLAS_VERSION;
        return what + " via JavaCPP " + javacppVersion();
    }

    private static String javacppVersion() {
        try {
            return Loader.getVersion();
        } catch (java.io.IOException | RuntimeException e) {
            return "(version unknown)";
        }
    }

    @Override
    public void setThreads(int threads) {
        // blas_set_num_threads is JavaCPP's wrapper of openblas_set_num_threads; check it with both readings.
        OpenBlasInfo.setAndVerify(name(), threads, openblas_nolapack::blas_set_num_threads, this::threads);
    }

    @Override
    public int threads() {
        int viaJavacpp = openblas_nolapack.blas_get_num_threads();
        if (info != null && info.threads() != viaJavacpp) {
            throw new IllegalStateException("JavaCPP reports " + viaJavacpp + " OpenBLAS threads but openblas_get_num_threads says "
                    + info.threads() + ": two copies of the library are loaded (" + jniLibrary + ")");
        }
        return viaJavacpp;
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      MemorySegment a, int lda, MemorySegment b, int ldb, float beta, MemorySegment c, int ldc) {
        Sgemm.checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
        openblas_nolapack.cblas_sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha,
                floats(a), lda, floats(b), ldb, beta, floats(c), ldc);
    }

    private static FloatBuffer floats(MemorySegment s) {
        if (!s.isNative()) {
            throw new IllegalArgumentException("JavaCPP sgemm needs off-heap segments (heap buffers would be copied), got " + s);
        }
        return s.asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
}
