package org.maejvm.bench.jmh;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import org.maejvm.bench.GemmCase;
import org.maejvm.bench.OpCases;
import org.maejvm.bench.blas.DebianOpenBlas;
import org.maejvm.bench.blas.JavacppOpenBlas;
import org.maejvm.bench.blas.Sgemm;
import org.maejvm.ops.Backend;
import org.maejvm.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * GEMM of the Linear-layer forms (fwd NT, dX NN, dW TN) at 1024³ and the ViT-B shapes, on our backends and on
 * OpenBLAS ("debian" through FFM, "javacpp" through JNI). GFLOP/s = 2·M·K·N / time. The reference backend is
 * not in the default list (minutes per call at these sizes): add it with {@code -p impl=reference}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GemmJmh {

    /** M x K x N of the layer. */
    @Param({"1024x1024x1024", "400x768x2304", "1568x768x3072", "1568x3072x768"})
    public String layer;

    @Param({"fwd", "dX", "dW"})
    public String form;

    /** "simd", "reference", "tornado" (needs the TornadoVM SDK), "debian", "javacpp". */
    @Param({"simd", "debian", "javacpp"})
    public String impl;

    /** Threads for the SIMD backend and OpenBLAS; 0 means every available processor. */
    @Param({"0"})
    public int threads;

    private GemmCase c;
    private Backend backend;
    private Tensor a, b, out;
    private Sgemm blas;
    private Arena arena;
    private MemorySegment sa, sb, sc;

    @Setup(Level.Trial)
    public void setup() {
        c = parse(layer, form);
        int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        float[] hostA = OpCases.randomFloats(c.m() * c.k(), 11), hostB = OpCases.randomFloats(c.k() * c.n(), 12);
        switch (impl) {
            case "simd", "reference", "tornado" -> {
                backend = OpsJmh.createBackend(impl, t);
                a = backend.fromHost(hostA, hostA.length);
                b = backend.fromHost(hostB, hostB.length);
                out = backend.zeros(c.m() * c.n());
            }
            case "debian", "javacpp" -> {
                blas = impl.equals("debian") ? DebianOpenBlas.load() : JavacppOpenBlas.load();
                blas.setThreads(t);
                arena = Arena.ofShared();
                sa = arena.allocateFrom(ValueLayout.JAVA_FLOAT, hostA);
                sb = arena.allocateFrom(ValueLayout.JAVA_FLOAT, hostB);
                sc = arena.allocate(ValueLayout.JAVA_FLOAT, (long) c.m() * c.n());
            }
            default -> throw new IllegalArgumentException("impl must be simd, reference, tornado, debian or javacpp, got '" + impl + "'");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (backend != null) backend.close();
        if (arena != null) arena.close();
    }

    @Benchmark
    public void gemm() {
        if (blas != null) {
            blas.sgemm(c.transA(), c.transB(), c.m(), c.n(), c.k(), 1f, sa, c.lda(), sb, c.ldb(), 0f, sc, c.n());
        } else {
            backend.gemm(c.transA(), c.transB(), c.m(), c.n(), c.k(), 1f, a, 0, c.lda(), b, 0, c.ldb(), 0f, out, 0, c.n());
        }
    }

    static GemmCase parse(String layer, String form) {
        String[] d = layer.split("x");
        if (d.length != 3) throw new IllegalArgumentException("layer must be MxKxN, got '" + layer + "'");
        GemmCase.Form f = switch (form) {
            case "fwd" -> GemmCase.Form.FWD;
            case "dX" -> GemmCase.Form.DX;
            case "dW" -> GemmCase.Form.DW;
            default -> throw new IllegalArgumentException("form must be fwd, dX or dW, got '" + form + "'");
        };
        return new GemmCase(Integer.parseInt(d[0]), Integer.parseInt(d[1]), Integer.parseInt(d[2]), f);
    }
}
