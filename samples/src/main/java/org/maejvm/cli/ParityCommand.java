package org.maejvm.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.maejvm.ops.Backend;
import org.maejvm.parity.ParityCheck;
import org.maejvm.parity.ParityFixture;
import org.maejvm.parity.TensorComparison;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mae parity}: replays a PyTorch fixture and prints how far every result is from it. */
@Command(name = "parity",
        description = {"Replays one MAE pretraining step from a fixture directory (config.json, model.safetensors,",
                "inputs.safetensors, expected.safetensors; see tools/fixtures/README.md) and compares loss, pred,",
                "mask, ids_restore, every gradient and every parameter after one AdamW step.",
                "Exits with 1 when any tensor is beyond tolerance."})
final class ParityCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--fixture", required = true, paramLabel = "DIR", description = "Fixture directory.")
    Path fixture;

    @Option(names = "--backend", defaultValue = "reference", paramLabel = "NAME",
            description = "Backend to check: reference or simd (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "Threads (0 = all cores).")
    int threads;

    @Option(names = "--device", defaultValue = "0", paramLabel = "N",
            description = "TornadoVM device for --backend tornado, numbered as 'mae devices' lists them (default: 0).")
    int device;

    @Option(names = "--pth", paramLabel = "FILE", description = "Load the initial weights from this PyTorch .pth instead of model.safetensors.")
    Path pth;

    @Option(names = "--tolerance", paramLabel = "REL",
            description = "Infinity-norm relative tolerance (default: 1e-5 on reference, 1e-4 otherwise).")
    Double tolerance;

    @Override
    public Integer call() throws Exception {
        ParityFixture fx = ParityFixture.load(fixture, pth);
        try (Backend be = CliBackends.open(CliBackends.withDevice(backend, device), threads)) {
            double tol = tolerance != null ? tolerance : ParityCheck.defaultTolerance(be);
            List<TensorComparison> results = ParityCheck.run(fx, be, tol);
            PrintWriter out = spec.commandLine().getOut();
            out.printf(Locale.ROOT, "%-48s %9s %12s %12s  %s%n", "tensor", "elements", "max abs err", "max rel err", "");
            int bad = 0;
            for (TensorComparison c : results) {
                if (!c.ok()) bad++;
                out.printf(Locale.ROOT, "%-48s %9d %12.3e %12.3e  %s%n", c.name(), c.elements(), c.maxAbs(), c.maxRel(),
                        c.ok() ? "ok" : "MISMATCH");
            }
            out.printf(Locale.ROOT, "%s backend (%d threads), tolerance %.1e (max |diff| / max |expected| per tensor): "
                    + "%d of %d tensors match%s%n", be.name(), be.threads(), tol, results.size() - bad, results.size(),
                    bad == 0 ? "" : ", " + bad + " MISMATCH");
            return bad == 0 ? 0 : 1;
        }
    }
}
