package org.maejvm.cli;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.maejvm.bench.GemmCase;
import org.maejvm.bench.OpCases;
import org.maejvm.bench.OpsBenchmark;
import org.maejvm.bench.blas.OpenBlasSelector;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code mae bench}: performance measurements. {@code ops} times every backend op and compares GEMM with
 * OpenBLAS; {@code train} measures end-to-end training throughput ({@link TrainBenchCommand}).
 */
@Command(name = "bench", subcommands = {BenchCommand.Ops.class, TrainBenchCommand.class}, description = {
    "Measure performance: 'mae bench ops' times every backend op, and GEMM against OpenBLAS; "
            + "'mae bench train' measures training images/s, optionally side by side with PyTorch."
})
public final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    /** {@code mae bench} alone: say which subcommands exist. */
    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "Missing subcommand: choose one of "
                + String.join(", ", spec.subcommands().keySet()));
    }

    /** Runs {@code bench} on its own, before or without the {@code mae} launcher. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchCommand()).execute(args));
    }

    @Command(name = "ops", sortOptions = false, description = {
        "Time every backend op at MAE ViT-B shapes; GEMM against OpenBLAS.",
        "Runs every op of the Backend SPI on the reference and SIMD backends: GFLOP/s for GEMM and attention, "
                + "GB/s for memory-bound ops. GEMM runs at 1024^3 and at the ViT-B Linear shapes in its three forms "
                + "(fwd NT, dX NN, dW TN) next to OpenBLAS in the same JVM with the same thread count.",
        "Takes a few minutes at the default sizes."
    })
    static final class Ops implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--threads", paramLabel = "N",
                description = "Threads for the SIMD backend and OpenBLAS (default: every available processor).")
        Integer threads;

        @Option(names = "--json", description = "One JSON object per line (op, shape, threads, backend, gflops, gbps; "
                + "GEMM also openblas_gflops, openblas, ratio) instead of the table; notes go to stderr.")
        boolean json;

        @Option(names = "--quick", description = "Smaller batch (8 images) and fewer GEMM shapes: a smoke run of well under a minute.")
        boolean quick;

        /** Hidden: "tiny" shapes for tests (numbers mean little), or an explicit "full"/"quick". */
        @Option(names = "--size", hidden = true)
        String size;

        @Option(names = "--openblas", paramLabel = "BUILD", defaultValue = "auto",
                description = "OpenBLAS build to compare with: auto (the faster of the two), debian "
                        + "(libopenblas0-pthread via FFM), javacpp (bundled), none. Default: ${DEFAULT-VALUE}.")
        String openblas;

        @Option(names = "--backends", paramLabel = "NAME", split = ",", defaultValue = "reference,simd",
                description = "Backends to time, comma separated: reference, simd, tornado or tornado:N (TornadoVM device N, "
                        + "see 'mae devices'). Default: ${DEFAULT-VALUE}.")
        List<String> backends;

        @Option(names = "--filter", paramLabel = "REGEX",
                description = "Only ops whose name contains a match, e.g. 'gemm$' or 'layerNorm|gelu'.")
        String filter;

        @Option(names = "--seconds", paramLabel = "S", defaultValue = "0.3",
                description = "Timed seconds per measurement, after a warm-up half as long. Default: ${DEFAULT-VALUE}.")
        double seconds;

        @Option(names = "--gemm-layers", paramLabel = "MxKxN", split = ",",
                description = "GEMM at these Linear layers instead of 1024^3 and ViT-B (rows x in x out, e.g. "
                        + "544x384x1536; each in its fwd, dX and dW forms), e.g. from 'mae bench train --profile-ops --gemm-shapes'.")
        List<String> gemmLayers;

        @Override
        public Integer call() {
            int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
            if (t < 1) throw new ParameterException(spec.commandLine(), "--threads must be >= 1, got " + t);
            OpenBlasSelector.Choice choice;
            try {
                choice = OpenBlasSelector.Choice.valueOf(openblas.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--openblas must be auto, debian, javacpp or none, got '" + openblas + "'");
            }
            OpsBenchmark.Options options;
            try {
                OpCases.Size sz = size != null ? OpCases.Size.valueOf(size.toUpperCase(Locale.ROOT))
                        : quick ? OpCases.Size.QUICK : OpCases.Size.FULL;
                options = new OpsBenchmark.Options(t, json, sz, choice, backends, filter, seconds,
                        gemmLayers == null ? null : GemmCase.parseLayers(gemmLayers));
                if (filter != null) java.util.regex.Pattern.compile(filter);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
            new OpsBenchmark(options, spec.commandLine().getOut(), spec.commandLine().getErr()).run();
            return 0;
        }
    }
}
