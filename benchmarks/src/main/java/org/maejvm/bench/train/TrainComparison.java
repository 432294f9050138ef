package org.maejvm.bench.train;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * mae-jvm against PyTorch on the same machine in one run: for each configuration, each side is measured in a fresh
 * process (so peak RSS counts only that benchmark), alternating JVM and PyTorch {@code repeats} times so that a
 * noisy neighbour hits both; the best images/s of each side give the ratio.
 */
public final class TrainComparison {

    /** One configuration's outcome: every run of both sides, and the best of each. */
    public record Row(TrainBenchmark.Options options, List<TrainResult> jvm, List<TorchYardstick.Measurement> torch) {
        public TrainResult bestJvm() { return jvm.stream().max(Comparator.comparingDouble(TrainResult::trainImgPerSec)).orElseThrow(); }

        public TorchYardstick.Measurement bestTorch() {
            return torch.stream().max(Comparator.comparingDouble(m -> m.result().trainImgPerSec())).orElseThrow();
        }

        public double trainRatio() { return bestJvm().trainImgPerSec() / bestTorch().result().trainImgPerSec(); }

        public double fwdRatio() {
            double j = jvm.stream().mapToDouble(TrainResult::fwdImgPerSec).max().orElseThrow();
            double t = torch.stream().mapToDouble(m -> m.result().fwdImgPerSec()).max().orElseThrow();
            return j / t;
        }

        /** Peak RSS: the lowest over the runs of each side (the same work; RSS only differs by noise in GC timing). */
        public double rssRatio() {
            double j = jvm.stream().mapToDouble(TrainResult::peakRssMb).min().orElseThrow();
            double t = torch.stream().mapToDouble(m -> m.result().peakRssMb()).min().orElseThrow();
            return j / t;
        }

        /** One JSON line with both sides' best and the ratios. */
        public String toJson(double peakGflopsPerCore) {
            TrainResult j = bestJvm();
            TorchYardstick.Measurement t = bestTorch();
            StepFlops flops = StepFlops.of(options.model().config(), options.batch(), TrainCase.MASK_RATIO);
            return String.format(Locale.ROOT, "{\"model\":\"%s\",\"batch\":%d,\"threads\":%d,\"backend\":\"%s\","
                            + "\"train_img_s\":%.3f,\"fwd_img_s\":%.3f,\"peak_rss_mb\":%.1f,"
                            + "\"torch_train_img_s\":%.3f,\"torch_fwd_img_s\":%.3f,\"torch_peak_rss_mb\":%.1f,"
                            + "\"train_ratio\":%.3f,\"fwd_ratio\":%.3f,\"rss_ratio\":%.3f,\"mfu\":%.4f,\"torch_mfu\":%.4f,"
                            + "\"torch_sgemm_gflops\":%.1f,\"repeats\":%d}",
                    j.model(), j.batch(), j.threads(), j.backend(), j.trainImgPerSec(),
                    jvm.stream().mapToDouble(TrainResult::fwdImgPerSec).max().orElseThrow(),
                    jvm.stream().mapToDouble(TrainResult::peakRssMb).min().orElseThrow(),
                    t.result().trainImgPerSec(), torch.stream().mapToDouble(m -> m.result().fwdImgPerSec()).max().orElseThrow(),
                    torch.stream().mapToDouble(m -> m.result().peakRssMb()).min().orElseThrow(),
                    trainRatio(), fwdRatio(), rssRatio(), j.trainUtilisation(flops, peakGflopsPerCore),
                    t.result().trainUtilisation(flops, peakGflopsPerCore), t.sgemmGflops(), jvm.size());
        }
    }

    private final JvmRunner jvm;
    private final TorchYardstick torch;
    private final int repeats;

    public TrainComparison(JvmRunner jvm, TorchYardstick torch, int repeats) {
        if (repeats < 1) throw new IllegalArgumentException("--repeats must be >= 1, got " + repeats);
        this.jvm = jvm;
        this.torch = torch;
        this.repeats = repeats;
    }

    /** Measures one configuration; {@code log} hears each run as it finishes. */
    public Row compare(TrainBenchmark.Options o, PrintWriter log) throws IOException, InterruptedException {
        List<TrainResult> j = new ArrayList<>();
        List<TorchYardstick.Measurement> t = new ArrayList<>();
        for (int r = 0; r < repeats; r++) {
            TrainResult jr = jvm.measure(o);
            j.add(jr);
            log.printf(Locale.ROOT, "  run %d/%d mae-jvm: %.2f img/s train, %.2f fwd, %.0f MB%n",
                    r + 1, repeats, jr.trainImgPerSec(), jr.fwdImgPerSec(), jr.peakRssMb());
            log.flush();
            TorchYardstick.Measurement tm = torch.measure(o);
            t.add(tm);
            log.printf(Locale.ROOT, "  run %d/%d pytorch: %.2f img/s train, %.2f fwd, %.0f MB (sgemm %.0f GFLOP/s on %s)%n",
                    r + 1, repeats, tm.result().trainImgPerSec(), tm.result().fwdImgPerSec(), tm.result().peakRssMb(),
                    tm.sgemmGflops(), tm.blas());
            if (!tm.blasLooksReal()) {
                log.printf(Locale.ROOT, "  warning: torch's sgemm reached only %.1f GFLOP/s on %d threads: it is not "
                        + "running on a real BLAS (install libopenblas0-openmp), so the ratio flatters mae-jvm%n",
                        tm.sgemmGflops(), o.threads());
            }
            log.flush();
        }
        return new Row(o, j, t);
    }

    /**
     * Measures the JVM side in a fresh JVM with this one's java, class path and JVM flags, plus the heap settings
     * of {@link #memoryFlags}.
     */
    public record JvmRunner(Path java, String classPath, List<String> jvmFlags) {
        public static JvmRunner current() {
            Path java = ProcessHandle.current().info().command().map(Path::of)
                    .orElse(Path.of(System.getProperty("java.home"), "bin", "java"));
            List<String> flags = new ArrayList<>(List.of("--add-modules", "jdk.incubator.vector",
                    "--enable-native-access=ALL-UNNAMED"));
            return new JvmRunner(java, System.getProperty("java.class.path"), flags);
        }

        List<String> command(TrainBenchmark.Options o) {
            List<String> cmd = new ArrayList<>();
            cmd.add(java.toString());
            cmd.addAll(jvmFlags);
            cmd.addAll(memoryFlags(o));
            cmd.add("-cp");
            cmd.add(classPath);
            cmd.add(TrainBenchmark.class.getName());
            cmd.addAll(List.of(TrainBenchmark.toArgs(o)));
            return cmd;
        }

        public TrainResult measure(TrainBenchmark.Options o) throws IOException, InterruptedException {
            String line = ChildProcess.lastJsonLine(new ProcessBuilder(command(o)), "mae-jvm benchmark");
            return TrainResult.fromFields(FlatJson.parse(line));
        }
    }

    /** Young generation of the benchmark JVM: room for per-step garbage (index arrays, boxed warm-up values). */
    static final long YOUNG_MB = 64;
    /** Heap beyond the tensors: class mirrors, strings, the backend's packing and attention scratch. */
    static final long OTHER_MB = 64;
    /** Slack on the planned tensors, so a plan that is a few percent short fails no run. */
    static final double PLAN_SLACK = 1.10;

    /**
     * Heap settings from the step's memory plan ({@link StepMemory}): the model's tensors are a fixed set of large
     * arrays allocated on the first step and reused, and a step allocates only small garbage. So: the serial
     * collector (no region rounding of large arrays, which under G1 wasted a fifth of the heap in humongous regions,
     * and no GC threads competing with the compute threads); a small fixed young generation; and a maximum heap of
     * the planned tensors plus slack, the young generation and the non-tensor objects, instead of the default
     * quarter of the machine's memory that G1 grows into while warm-up code allocates.
     */
    public static List<String> memoryFlags(TrainBenchmark.Options o) {
        long planned = StepMemory.of(o.model().config(), o.batch(), TrainCase.MASK_RATIO).total();
        long maxHeapMb = (long) Math.ceil(planned * PLAN_SLACK / (1 << 20)) + YOUNG_MB + OTHER_MB;
        return List.of("-XX:+UseSerialGC", "-Xmn" + YOUNG_MB + "m", "-Xmx" + maxHeapMb + "m");
    }
}
