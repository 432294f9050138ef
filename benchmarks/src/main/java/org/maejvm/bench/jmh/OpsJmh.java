package org.maejvm.bench.jmh;

import java.util.concurrent.TimeUnit;
import org.maejvm.bench.OpCase;
import org.maejvm.bench.OpCases;
import org.maejvm.ops.Backend;
import org.maejvm.ops.ReferenceBackend;
import org.maejvm.simd.SimdBackend;
import org.maejvm.tornado.TornadoDevices;
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
 * Every non-GEMM op of the Backend SPI on each backend, at the cases of {@link OpCases} (ViT-B shapes).
 * Time per call; the work per call (flops or bytes) is printed in the shape column of {@code mae bench ops}.
 * Pick cases with {@code -p op=layerNormForward,softmax -p backend=simd}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class OpsJmh {

    @Param({"reference", "simd"})
    public String backend;

    /** {@link OpCase#id()} of every case; OpsJmhTest checks this list against OpCases. */
    @Param({"upload", "toHost", "fill", "copy", "copyRows", "gemmBatched", "add", "scale", "axpy", "addBias", "biasGrad",
            "layerNormForward", "layerNormBackward", "geluForward", "geluBackward", "softmax",
            "attentionForward:enc", "attentionBackward:enc", "attentionForward:dec", "attentionBackward:dec",
            "gatherRows", "scatterAddRows", "patchify:cij", "patchify:ijc", "maskedMseForward", "maskedMseBackward",
            "softmaxCrossEntropy", "adamw", "sum", "sumSquares"})
    public String op;

    /** "full" (32-image batch) or "quick" (8 images). */
    @Param({"full"})
    public String size;

    /** SIMD worker threads; 0 means every available processor. */
    @Param({"0"})
    public int threads;

    private Backend b;
    private Runnable call;

    @Setup(Level.Trial)
    public void setup() {
        b = createBackend(backend, threads);
        OpCase c = OpCases.byId(op, OpCases.Size.valueOf(size.toUpperCase(java.util.Locale.ROOT)), backend.equals("reference"));
        call = c.setup().apply(b);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        b.close();
    }

    @Benchmark
    public void run() {
        call.run();
    }

    static Backend createBackend(String name, int threads) {
        int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        return switch (name) {
            case "reference" -> new ReferenceBackend();
            case "simd" -> new SimdBackend(t);
            case "tornado" -> TornadoDevices.open(0);   // with the TornadoVM SDK: -jvmArgsAppend @$TORNADOVM_HOME/tornado-argfile
            default -> throw new IllegalArgumentException("backend must be reference, simd or tornado, got '" + name + "'");
        };
    }
}
