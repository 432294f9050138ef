package org.maejvm.bench.blas;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Single-precision GEMM from an outside library (OpenBLAS), used as the yardstick for our own kernels.
 *
 * <p>Row-major, BLAS semantics: C = alpha * op(A) * op(B) + beta * C, op(A) is m x k, op(B) is k x n. With
 * transA, A is stored k x m (lda >= m), otherwise m x k (lda >= k); likewise B. The same contract as
 * {@code Backend.gemm}, so results compare one to one.
 *
 * <p>The fast path takes off-heap {@link MemorySegment}s, so a timed call copies nothing; the {@code float[]}
 * overload is for convenience and tests (it may copy).
 */
public interface Sgemm extends AutoCloseable {

    /** Short id for output: "debian" or "javacpp". */
    String name();

    /** What the library says about itself (version, build options, detected core), for the record. */
    String describe();

    /** Sets the library's worker-thread count and checks that it took; throws if the library reports another. */
    void setThreads(int threads);

    /** The thread count the library reports now. */
    int threads();

    /** C = alpha op(A) op(B) + beta C on off-heap segments of floats (native byte order). */
    void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
               MemorySegment a, int lda, MemorySegment b, int ldb, float beta, MemorySegment c, int ldc);

    /** The same on heap arrays; copies through native memory. */
    default void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                       float[] a, int lda, float[] b, int ldb, float beta, float[] c, int ldc) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = arena.allocateFrom(ValueLayout.JAVA_FLOAT, a);
            MemorySegment sb = arena.allocateFrom(ValueLayout.JAVA_FLOAT, b);
            MemorySegment sc = arena.allocateFrom(ValueLayout.JAVA_FLOAT, c);
            sgemm(transA, transB, m, n, k, alpha, sa, lda, sb, ldb, beta, sc, ldc);
            MemorySegment.copy(sc, ValueLayout.JAVA_FLOAT, 0, c, 0, c.length);
        }
    }

    @Override
    default void close() {}

    /**
     * Checks sizes before a native call: a wrong leading dimension or a short buffer would otherwise read or
     * write out of bounds in C code instead of failing with a message.
     */
    static void checkArgs(boolean transA, boolean transB, int m, int n, int k,
                          MemorySegment a, int lda, MemorySegment b, int ldb, MemorySegment c, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("sgemm: sizes must be >= 0, got m=" + m + " n=" + n + " k=" + k);
        }
        checkMatrix("A", a, transA ? k : m, transA ? m : k, lda);
        checkMatrix("B", b, transB ? n : k, transB ? k : n, ldb);
        checkMatrix("C", c, m, n, ldc);
    }

    private static void checkMatrix(String what, MemorySegment s, int rows, int cols, int ld) {
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException("sgemm: leading dimension of " + what + " (" + ld + ") is below its "
                    + cols + " columns");
        }
        long needed = rows == 0 || cols == 0 ? 0 : ((long) (rows - 1) * ld + cols) * Float.BYTES;
        if (s.byteSize() < needed) {
            throw new IllegalArgumentException("sgemm: " + what + " (" + rows + "x" + cols + ", ld " + ld + ") needs "
                    + needed + " bytes, the segment has " + s.byteSize());
        }
    }
}
