package org.maejvm.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.maejvm.bench.blas.OpenBlasSelector;
import org.maejvm.bench.blas.Sgemm;
import org.maejvm.ops.Backend;
import org.maejvm.tensor.Tensor;

/**
 * {@code mae bench ops}: times every op of the Backend SPI on the reference and SIMD backends, and GEMM at
 * 1024³ and the ViT-B Linear shapes against OpenBLAS in the same JVM with the same thread count. Plain Java
 * timing (warm-up, then the best of several samples) so a user gets the table in a few minutes; the JMH
 * benchmarks in {@code org.maejvm.bench.jmh} measure the same cases more carefully.
 */
public final class OpsBenchmark {

    /**
     * @param threads   worker threads for the SIMD backend and OpenBLAS (the reference backend has one)
     * @param json      one JSON object per line instead of the table
     * @param size      FULL shapes, QUICK ones for a smoke run, TINY ones for tests
     * @param openblas  which OpenBLAS build to compare GEMM against
     * @param backends  any of "reference", "simd", "tornado", "tornado:N" (TornadoVM device N; needs the TornadoVM SDK)
     * @param filter    regular expression an op name must contain to run, or null for all
     * @param measureSeconds timed seconds per measurement (the warm-up takes about half as long)
     * @param gemmLayers the GEMM layers to time instead of the standard ones, or null
     */
    public record Options(int threads, boolean json, OpCases.Size size, OpenBlasSelector.Choice openblas,
                          List<String> backends, String filter, double measureSeconds, List<GemmCase> gemmLayers) {
        public Options {
            if (threads < 1) throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
            for (String b : backends) BenchBackends.check(b);
            if (!(measureSeconds > 0)) throw new IllegalArgumentException("measure time must be > 0 s, got " + measureSeconds);
        }

        /** The standard GEMM shapes of {@code size}. */
        public Options(int threads, boolean json, OpCases.Size size, OpenBlasSelector.Choice openblas,
                       List<String> backends, String filter, double measureSeconds) {
            this(threads, json, size, openblas, backends, filter, measureSeconds, null);
        }

        public static Options defaults() {
            return new Options(Runtime.getRuntime().availableProcessors(), false, OpCases.Size.FULL,
                    OpenBlasSelector.Choice.AUTO, List.of("reference", "simd"), null, 0.3);
        }
    }

    /** A GEMM projected to run longer than this per call (from the rate of its form so far) is skipped. */
    static final double MAX_CALL_SECONDS = 10;

    private final Options options;
    private final PrintWriter out;
    private final PrintWriter info;
    private final Pattern filter;

    /** Results go to {@code out}; notes (machine, OpenBLAS choice) to {@code out} as well in table mode, else to {@code info}. */
    public OpsBenchmark(Options options, PrintWriter out, PrintWriter info) {
        this.options = options;
        this.out = out;
        this.info = options.json() ? info : out;
        this.filter = options.filter() == null ? null : Pattern.compile(options.filter());
    }

    /** Runs everything selected and returns the rows (also printed as they come). */
    public List<Result> run() {
        List<Result> results = new ArrayList<>();
        Consumer<Result> emit = r -> {
            results.add(r);
            out.println(options.json() ? r.toJson() : r.toRow());
            out.flush();
        };
        int threads = options.threads();
        info.println("# " + machine());
        info.println("# threads: " + threads + " (reference backend: 1); sizes: " + options.size().name().toLowerCase(Locale.ROOT)
                + "; timing: best of " + Measure.SAMPLES + " samples over ~" + options.measureSeconds() + " s after warm-up"
                + " (GEMM alternates its samples with OpenBLAS's)");

        boolean wantGemm = selected("gemm");
        OpenBlasSelector.Selection blas = wantGemm && options.backends().contains("simd")
                ? OpenBlasSelector.select(options.openblas(), threads)
                : new OpenBlasSelector.Selection(null, List.of());
        for (String note : blas.notes()) info.println("# openblas: " + note);
        info.flush();
        if (options.backends().contains("reference") && wantGemm) {
            info.println("# reference backend: GEMM at " + GemmCase.forReference(options.size()).get(0).shape().split(" ")[0]
                    + " only (scalar, one thread; 1024³ and ViT-B shapes skipped)");
        }
        if (!options.json()) out.println(Result.header());

        if (wantGemm) {
            for (String backendName : options.backends()) {
                try (Backend b = backend(backendName, threads)) {
                    boolean ref = backendName.equals("reference");
                    Map<GemmCase.Form, Double> rateByForm = new EnumMap<>(GemmCase.Form.class);
                    for (GemmCase c : ref ? GemmCase.forReference(options.size())
                            : options.gemmLayers() != null ? options.gemmLayers() : GemmCase.standard(options.size())) {
                        Double rate = rateByForm.get(c.form());
                        double projected = rate == null ? 0 : c.flops() / rate / 1e9;
                        if (projected > MAX_CALL_SECONDS) {
                            info.printf(Locale.ROOT, "# skipped gemm %s on %s: one call would take ~%.0f s at the %.2f GFLOP/s measured for %s%n",
                                    c.shape(), backendName, projected, rate, c.form().label);
                            continue;
                        }
                        Result r = gemm(b, c, ref ? null : blas.sgemm());
                        rateByForm.put(c.form(), r.gflops());
                        emit.accept(r);
                    }
                }
            }
        }
        for (String backendName : options.backends()) {
            try (Backend b = backend(backendName, threads)) {
                for (OpCase c : OpCases.all(options.size(), backendName.equals("reference"))) {
                    if (selected(c.id())) emit.accept(op(b, c));
                }
            }
        }
        return results;
    }

    private boolean selected(String op) {
        return filter == null || filter.matcher(op).find();
    }

    /** A backend of {@link BenchBackends}; a TornadoVM device is named on the info stream once opened. */
    private Backend backend(String name, int threads) {
        Backend b = BenchBackends.open(name, threads);
        if (BenchBackends.isDevice(name)) {
            info.println("# " + BenchBackends.describe(name, b)
                    + " (each op's first call compiles its kernels and is part of the warm-up, not of the timing)");
            info.flush();
        }
        return b;
    }

    private Result op(Backend b, OpCase c) {
        Runnable body = c.setup().apply(b);
        Measure.Timing t = Measure.time(body, options.measureSeconds(), options.measureSeconds() / 2);
        double rate = c.work() / t.bestNanos();   // per ns = G per s
        boolean flops = c.unit() == OpCase.Unit.FLOP;
        return new Result(c.op(), c.shape(), b.name(), b.threads(), t, flops ? rate : null, flops ? null : rate,
                null, null, null);
    }

    /**
     * Times the backend's GEMM and OpenBLAS on the same operands, their samples alternating so that a change of
     * load on the machine hits both alike, and compares their results.
     */
    private Result gemm(Backend b, GemmCase c, Sgemm blas) {
        int m = c.m(), n = c.n(), k = c.k();
        int aSize = m * k, bSize = k * n;
        float[] hostA = OpCases.randomFloats(aSize, 11), hostB = OpCases.randomFloats(bSize, 12);
        Tensor ta = b.fromHost(hostA, aSize), tb = b.fromHost(hostB, bSize), tc = b.zeros(m * n);
        Runnable body = () -> b.gemm(c.transA(), c.transB(), m, n, k, 1f, ta, 0, c.lda(), tb, 0, c.ldb(), 0f, tc, 0, n);
        if (blas == null) {
            Measure.Timing t = Measure.time(body, options.measureSeconds(), options.measureSeconds() / 2);
            return new Result("gemm", c.shape(), b.name(), b.threads(), t, c.flops() / t.bestNanos(), null, null,
                    null, null);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sa = arena.allocateFrom(ValueLayout.JAVA_FLOAT, hostA);
            MemorySegment sb = arena.allocateFrom(ValueLayout.JAVA_FLOAT, hostB);
            MemorySegment sc = arena.allocate(ValueLayout.JAVA_FLOAT, (long) m * n);
            Measure.Pair pair = Measure.timePair(body,
                    () -> blas.sgemm(c.transA(), c.transB(), m, n, k, 1f, sa, c.lda(), sb, c.ldb(), 0f, sc, n),
                    Measure::quiesce, options.measureSeconds(), options.measureSeconds() / 2);
            Measure.Timing t = pair.first();
            double err = relativeError(b.toHost(tc), sc.toArray(ValueLayout.JAVA_FLOAT));
            return new Result("gemm", c.shape(), b.name(), b.threads(), t, c.flops() / t.bestNanos(), null,
                    c.flops() / pair.second().bestNanos(), blas.name(), err);
        }
    }

    /** max |x - ref| / max |ref|: scale-free, and meaningful for sums of random signs. */
    static double relativeError(float[] x, float[] ref) {
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < ref.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs((double) x[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }

    /** "AMD EPYC, 2 cores, AVX2+FMA, no AVX-512; Vector API 256-bit floats; JDK 25" as far as this JVM can tell. */
    static String machine() {
        String model = "unknown CPU", flags = "";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name") && model.startsWith("unknown")) model = line.substring(line.indexOf(':') + 1).trim();
                if (line.startsWith("flags") && flags.isEmpty()) flags = " " + line.substring(line.indexOf(':') + 1).trim() + " ";
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: the model stays unknown
        }
        StringBuilder sb = new StringBuilder(model).append(", ").append(Runtime.getRuntime().availableProcessors()).append(" cores");
        if (!flags.isEmpty()) {
            sb.append(flags.contains(" avx2 ") ? ", AVX2" : ", no AVX2").append(flags.contains(" fma ") ? "+FMA" : "");
            sb.append(flags.contains(" avx512f ") ? ", AVX-512" : ", no AVX-512");
        }
        sb.append("; Vector API ").append(vectorBits()).append("; JDK ").append(Runtime.version());
        try {
            // Other work on the machine skews every number; say how busy it was.
            String load = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0];
            sb.append("; load average ").append(load);
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return sb.toString();
    }

    private static String vectorBits() {
        try {
            return jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit";
        } catch (LinkageError e) {
            return "unavailable (run with --add-modules jdk.incubator.vector)";
        }
    }

    // ------------------------------------------------------------------ command line without picocli

    /** {@code OpsBenchmark [--threads N] [--json] [--quick] [--size S] [--openblas auto|debian|javacpp|none] [--backends a,b] [--filter REGEX]} */
    public static void main(String[] args) {
        Options o = Options.defaults();
        int threads = o.threads();
        boolean json = false;
        OpCases.Size size = o.size();
        OpenBlasSelector.Choice blas = o.openblas();
        List<String> backends = o.backends();
        String filter = null;
        double seconds = o.measureSeconds();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--threads" -> threads = Integer.parseInt(value(args, ++i, a));
                case "--json" -> json = true;
                case "--quick" -> size = OpCases.Size.QUICK;
                case "--size" -> size = OpCases.Size.valueOf(value(args, ++i, a).toUpperCase(Locale.ROOT));
                case "--openblas" -> blas = OpenBlasSelector.Choice.valueOf(value(args, ++i, a).toUpperCase(Locale.ROOT));
                case "--backends" -> backends = List.of(value(args, ++i, a).split(","));
                case "--filter" -> filter = value(args, ++i, a);
                case "--seconds" -> seconds = Double.parseDouble(value(args, ++i, a));
                default -> throw new IllegalArgumentException("unknown option '" + a
                        + "'; valid: --threads N, --json, --quick, --size full|quick|tiny, --openblas auto|debian|javacpp|none, --backends reference,simd,tornado[:N], --filter REGEX, --seconds S");
            }
        }
        new OpsBenchmark(new Options(threads, json, size, blas, backends, filter, seconds),
                new PrintWriter(System.out, true), new PrintWriter(System.err, true)).run();
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) throw new IllegalArgumentException(option + " needs a value");
        return args[i];
    }
}
