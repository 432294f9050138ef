package org.maejvm.bench.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.maejvm.bench.blas.DebianOpenBlas;

/**
 * Starts the PyTorch counterpart ({@code benchmarks/python/bench_train_torch.py}) the fair way: Debian's torch
 * calls the generic {@code libblas.so.3}, which may be the netlib reference BLAS (~5 GFLOP/s), so the process gets
 * the OpenMP build of OpenBLAS first on {@code LD_LIBRARY_PATH} and the thread count in {@code OMP_NUM_THREADS}.
 */
public final class TorchYardstick {

    /** Below this sgemm rate per thread the yardstick is not running on a real BLAS and its ratios mean little. */
    public static final double MIN_SGEMM_GFLOPS_PER_THREAD = 20;

    /** A PyTorch measurement and what its process reported about itself. */
    public record Measurement(TrainResult result, String torchVersion, String blas, double sgemmGflops) {
        public boolean blasLooksReal() {
            return sgemmGflops >= MIN_SGEMM_GFLOPS_PER_THREAD * result.threads();
        }
    }

    private final Path python;
    private final Path script;
    private final Optional<Path> openblasDir;

    public TorchYardstick(Path python, Path script) {
        this(python, script, findOpenBlasOpenMp());
    }

    TorchYardstick(Path python, Path script, Optional<Path> openblasDir) {
        if (!Files.isExecutable(python)) {
            throw new IllegalArgumentException("no Python at " + python + ": the PyTorch yardstick needs Debian's "
                    + "python3-torch (apt-get install python3-torch) and its /usr/bin/python3, or --python PATH");
        }
        if (!Files.isRegularFile(script)) {
            throw new IllegalArgumentException("the PyTorch benchmark script is not at " + script
                    + "; run from the repository (./mae) or pass --torch-script PATH");
        }
        this.python = python;
        this.script = script;
        this.openblasDir = openblasDir;
    }

    /** The folder of the OpenMP OpenBLAS's libblas.so.3 if installed (Debian libopenblas0-openmp). */
    public static Optional<Path> findOpenBlasOpenMp() {
        return DebianOpenBlas.variantFile("openblas-openmp", "libblas.so.3").map(Path::getParent);
    }

    public Optional<Path> openblasDir() { return openblasDir; }

    /** The command line that measures {@code o} in PyTorch. */
    List<String> command(TrainBenchmark.Options o) {
        List<String> cmd = new ArrayList<>(List.of(python.toString(), script.toString(),
                "--model", o.model().label(), "--batch-size", Integer.toString(o.batch()),
                "--threads", Integer.toString(o.threads()),
                "--warmup-seconds", Double.toString(o.warmupSeconds()), "--seconds", Double.toString(o.measureSeconds())));
        return cmd;
    }

    /** The environment additions: OpenBLAS first, and every threading knob at the thread count. */
    Map<String, String> environment(int threads, String inheritedLdPath) {
        String t = Integer.toString(threads);
        String ld = openblasDir.map(d -> inheritedLdPath == null || inheritedLdPath.isEmpty()
                ? d.toString() : d + ":" + inheritedLdPath).orElse(inheritedLdPath == null ? "" : inheritedLdPath);
        return Map.of("LD_LIBRARY_PATH", ld, "OMP_NUM_THREADS", t, "OPENBLAS_NUM_THREADS", t, "MKL_NUM_THREADS", t);
    }

    /** Runs the script and parses its JSON line. */
    public Measurement measure(TrainBenchmark.Options o) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command(o));
        pb.environment().putAll(environment(o.threads(), System.getenv("LD_LIBRARY_PATH")));
        String line = ChildProcess.lastJsonLine(pb, "PyTorch benchmark");
        return parse(line);
    }

    /** Parses the script's JSON line (flat object of strings and numbers). */
    static Measurement parse(String line) {
        Map<String, String> f = FlatJson.parse(line);
        return new Measurement(TrainResult.fromFields(f), f.getOrDefault("torch_version", "?"), f.getOrDefault("blas", "?"),
                FlatJson.number(f, "sgemm_gflops"));
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s %s (OpenBLAS OpenMP: %s)", python, script,
                openblasDir.map(Path::toString).orElse("not installed"));
    }
}
