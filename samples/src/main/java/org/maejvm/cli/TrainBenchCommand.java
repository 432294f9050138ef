package org.maejvm.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.maejvm.bench.BenchBackends;
import org.maejvm.bench.train.StepFlops;
import org.maejvm.bench.train.TorchYardstick;
import org.maejvm.bench.train.TrainBenchmark;
import org.maejvm.bench.train.TrainCase;
import org.maejvm.bench.train.TrainComparison;
import org.maejvm.bench.train.TrainResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code mae bench train}: end-to-end training throughput, alone or side by side with PyTorch. */
@Command(name = "train", sortOptions = false, description = {
    "Training images/s of full MAE pretraining steps (forward at mask ratio 0.75, backward, AdamW) after warm-up, "
            + "forward-only images/s, peak RSS and model FLOP utilisation.",
    "Models: tiny (img 32, patch 4, 192-d x12, decoder 128-d x4, batch 64), small (img 64, patch 8, 384-d x12, "
            + "decoder 256-d x4, batch 32), base (official mae_vit_base_patch16, batch 8).",
    "--compare torch measures the PyTorch counterpart (benchmarks/python/bench_train_torch.py, Debian python3-torch "
            + "on OpenBLAS) in the same run, alternating fresh processes, and prints the ratios."
})
final class TrainBenchCommand implements Callable<Integer> {
    static final Path DEFAULT_PYTHON = Path.of("/usr/bin/python3");
    static final String TORCH_SCRIPT = "benchmarks/python/bench_train_torch.py";

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "NAME", split = ",", defaultValue = "tiny",
            description = "tiny, small or base; several separated by commas. Default: ${DEFAULT-VALUE}.")
    List<String> models;

    @Option(names = "--batch-size", paramLabel = "B",
            description = "Images per step (default: the model's: tiny 64, small 32, base 8).")
    Integer batch;

    @Option(names = "--threads", paramLabel = "N", description = "Threads (default: every available processor).")
    Integer threads;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "simd",
            description = "Backend to measure (see 'mae backends'); tornado runs on a TornadoVM device (--device). "
                    + "Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--device", defaultValue = "0", paramLabel = "N",
            description = "TornadoVM device for --backend tornado, numbered as 'mae devices' lists them (default: 0).")
    int device;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "10",
            description = "Timed seconds per phase (train, forward). Default: ${DEFAULT-VALUE}.")
    double seconds;

    @Option(names = "--warmup-seconds", paramLabel = "S", defaultValue = "5",
            description = "Warm-up seconds before each timed phase. Default: ${DEFAULT-VALUE}.")
    double warmupSeconds;

    @Option(names = "--json", description = "One JSON line per model instead of the table: model, batch, threads, "
            + "backend, train_img_s, fwd_img_s, peak_rss_mb (with --compare also the torch_* fields and ratios).")
    boolean json;

    @Option(names = "--compare", paramLabel = "torch",
            description = "Measure PyTorch too, in the same run, and print the ratios (only 'torch').")
    String compare;

    @Option(names = "--repeats", paramLabel = "R", defaultValue = "2",
            description = "With --compare: alternating runs of each side; the best of each is compared. Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--profile-ops", paramLabel = "STEPS", arity = "0..1", fallbackValue = "5",
            description = "Instead of images/s: after the warm-up, time every op of STEPS training steps (default 5) "
                    + "in this JVM and print where a step's time goes, by op (GEMMs by transpose form).")
    Integer profileSteps;

    @Option(names = "--gemm-shapes", description = "With --profile-ops: one row per GEMM shape (M x K x N), with its GFLOP/s.")
    boolean gemmShapes;

    @Option(names = "--python", paramLabel = "PATH", description = "Python with torch (default: /usr/bin/python3).")
    Path python;

    @Option(names = "--torch-script", paramLabel = "PATH", description = "The PyTorch benchmark script "
            + "(default: " + TORCH_SCRIPT + " of this checkout).")
    Path torchScript;

    @Option(names = "--peak-gflops-per-core", paramLabel = "G", defaultValue = "100",
            description = "FP32 FMA peak of one core for the utilisation figure (AVX2: 2 FMA units x 8 lanes x 2 "
                    + "x clock). Default: ${DEFAULT-VALUE}.")
    double peakGflopsPerCore;

    @Override
    public Integer call() throws Exception {
        int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        List<TrainBenchmark.Options> runs = new ArrayList<>();
        boolean onDevice;
        try {
            String spec = CliBackends.withDevice(backend, device);
            onDevice = BenchBackends.isDevice(spec);
            if (!onDevice && device != 0) {
                throw new IllegalArgumentException("--device applies to --backend tornado only (backend '" + backend
                        + "' runs on this machine's CPU cores; see --threads)");
            }
            for (String m : models) {
                TrainCase c = TrainCase.named(m.trim());
                runs.add(new TrainBenchmark.Options(c, batch != null ? batch : c.defaultBatch(), t, spec,
                        warmupSeconds, seconds));
            }
            if (compare != null && !compare.equals("torch")) {
                throw new IllegalArgumentException("--compare takes 'torch', got '" + compare + "'");
            }
            if (compare != null && onDevice) {
                // the PyTorch yardstick runs on the CPU: a device-vs-CPU ratio would say nothing about either
                throw new IllegalArgumentException("--compare torch measures PyTorch on the CPU; it cannot be compared "
                        + "with --backend tornado (run 'mae bench train --backend tornado' alone)");
            }
            if (!(peakGflopsPerCore > 0)) throw new IllegalArgumentException("--peak-gflops-per-core must be > 0");
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        if (profileSteps != null) return profile(runs, out, err);
        if (compare != null) return compare(runs, out, err);
        if (!json) out.println(header());
        for (TrainBenchmark.Options o : runs) {
            String where = onDevice ? "TornadoVM device " + BenchBackends.device(o.backend())
                    + " (the first step builds and compiles every kernel)" : o.threads() + " threads on " + o.backend();
            err.printf(Locale.ROOT, "%s, batch %d, %s: warming up %.0f s, then %.0f s of training "
                    + "steps and %.0f s of forward passes%n", o.model().label(), o.batch(), where,
                    o.warmupSeconds(), o.measureSeconds(), o.measureSeconds());
            err.flush();
            // On the CPU a fresh JVM per model, with heap settings from its memory plan, so the peak RSS is the
            // benchmark's own; a TornadoVM device run stays in this JVM, which was started with TornadoVM's flags.
            TrainResult r = onDevice ? TrainBenchmark.run(o) : TrainComparison.JvmRunner.current().measure(o);
            out.println(json ? r.toJson() : row(r));
            out.flush();
        }
        return 0;
    }

    private Integer profile(List<TrainBenchmark.Options> runs, PrintWriter out, PrintWriter err) {
        if (profileSteps < 1) throw new ParameterException(spec.commandLine(), "--profile-ops takes a step count >= 1, got " + profileSteps);
        if (compare != null) throw new ParameterException(spec.commandLine(), "--profile-ops and --compare are separate runs: pick one");
        for (TrainBenchmark.Options o : runs) {
            err.printf(Locale.ROOT, "%s, batch %d, %d threads on %s: warming up %.0f s, then %d profiled steps%n",
                    o.model().label(), o.batch(), o.threads(), o.backend(), o.warmupSeconds(), profileSteps);
            err.flush();
            TrainBenchmark.OpProfile p = TrainBenchmark.profile(o, profileSteps, gemmShapes);
            double stepMs = p.nanos() / 1e6 / p.steps();
            out.printf(Locale.ROOT, "%s, batch %d, %d threads: %.1f ms per step (%.2f img/s)%n", o.model().label(),
                    o.batch(), o.threads(), stepMs, o.batch() / stepMs * 1e3);
            out.printf(Locale.ROOT, "%-34s %10s %10s %7s %8s%n", "op", "calls/step", "ms/step", "share", "GFLOP/s");
            double covered = 0;
            for (var op : p.ops()) {
                double ms = op.nanos() / 1e6 / p.steps();
                covered += ms;
                out.printf(Locale.ROOT, "%-34s %10.1f %10.2f %6.1f%% %8s%n", op.op(), (double) op.calls() / p.steps(), ms,
                        100 * ms / stepMs, Double.isNaN(op.gflops()) ? "" : String.format(Locale.ROOT, "%.1f", op.gflops()));
            }
            out.printf(Locale.ROOT, "%-34s %10s %10.2f %6.1f%%%n", "(outside ops)", "", stepMs - covered,
                    100 * (stepMs - covered) / stepMs);
            out.flush();
        }
        return 0;
    }

    private Integer compare(List<TrainBenchmark.Options> runs, PrintWriter out, PrintWriter err) throws Exception {
        TorchYardstick torch = new TorchYardstick(python != null ? python : DEFAULT_PYTHON,
                torchScript != null ? torchScript : findScript());
        if (torch.openblasDir().isEmpty()) {
            err.println("warning: libopenblas0-openmp is not installed, so torch uses whatever libblas.so.3 is "
                    + "(perhaps the slow reference BLAS); install it for a fair yardstick: apt-get install libopenblas0-openmp");
        }
        TrainComparison comparison = new TrainComparison(TrainComparison.JvmRunner.current(), torch, repeats);
        List<TrainComparison.Row> rows = new ArrayList<>();
        for (TrainBenchmark.Options o : runs) {
            err.printf(Locale.ROOT, "%s, batch %d, %d threads: %d alternating runs of mae-jvm (%s) and PyTorch, "
                            + "each %.0f s warm-up + 2 x %.0f s%n", o.model().label(), o.batch(), o.threads(), repeats,
                    o.backend(), o.warmupSeconds(), o.measureSeconds());
            err.flush();
            TrainComparison.Row row = comparison.compare(o, err);
            rows.add(row);
            if (json) {
                out.println(row.toJson(peakGflopsPerCore));
                out.flush();
            }
        }
        if (!json) {
            out.println(String.format(Locale.ROOT, "%-6s %5s %7s %11s %11s %7s %9s %9s %7s %9s %9s",
                    "model", "batch", "threads", "mae img/s", "torch img/s", "ratio", "fwd ratio", "mae MB",
                    "torch MB", "mae MFU", "torch MFU"));
            for (TrainComparison.Row r : rows) {
                TrainResult j = r.bestJvm(), tr = r.bestTorch().result();
                StepFlops f = flops(r.options());
                out.println(String.format(Locale.ROOT, "%-6s %5d %7d %11.2f %11.2f %7.2f %9.2f %9.0f %7.0f %8.1f%% %8.1f%%",
                        j.model(), j.batch(), j.threads(), j.trainImgPerSec(), tr.trainImgPerSec(), r.trainRatio(),
                        r.fwdRatio(), j.peakRssMb(), tr.peakRssMb(), 100 * j.trainUtilisation(f, peakGflopsPerCore),
                        100 * tr.trainUtilisation(f, peakGflopsPerCore)));
            }
        }
        out.flush();
        return 0;
    }

    private static StepFlops flops(TrainBenchmark.Options o) {
        return StepFlops.of(o.model().config(), o.batch(), TrainCase.MASK_RATIO);
    }

    private static String header() {
        return String.format(Locale.ROOT, "%-6s %5s %7s %-9s %12s %10s %8s %6s %8s", "model", "batch", "threads",
                "backend", "train img/s", "fwd img/s", "peak MB", "MFU", "GFLOP/s");
    }

    private String row(TrainResult r) {
        StepFlops f = StepFlops.of(TrainCase.named(r.model()).config(), r.batch(), TrainCase.MASK_RATIO);
        double gflops = f.train() / r.batch() * r.trainImgPerSec() / 1e9;
        // on a device neither the thread count nor a per-core peak applies
        boolean device = BenchBackends.isDevice(r.backend());
        String threadsCol = device ? "-" : Integer.toString(r.threads());
        String mfu = device ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * r.trainUtilisation(f, peakGflopsPerCore));
        return String.format(Locale.ROOT, "%-6s %5d %7s %-9s %12.2f %10.2f %8.0f %6s %8.1f", r.model(), r.batch(),
                threadsCol, r.backend(), r.trainImgPerSec(), r.fwdImgPerSec(), r.peakRssMb(), mfu, gflops);
    }

    /** The script of this checkout: from mae.home (set by ./mae), else the working directory and its parents. */
    static Path findScript() {
        String home = System.getProperty("mae.home");
        if (home != null) return Path.of(home).resolve(TORCH_SCRIPT);
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve(TORCH_SCRIPT))) return d.resolve(TORCH_SCRIPT);
        }
        return Path.of(TORCH_SCRIPT);
    }
}
