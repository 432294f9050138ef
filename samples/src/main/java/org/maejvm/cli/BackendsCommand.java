package org.maejvm.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.maejvm.ops.Backend;
import org.maejvm.ops.BackendProvider;
import org.maejvm.ops.Backends;
import org.maejvm.ops.ReferenceBackend;
import org.maejvm.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mae backends}: the compute backends this JVM can use, as registered through
 * {@link BackendProvider}, and (with --check) whether they compute the same as the reference.
 */
@Command(name = "backends", description = {
    "List the compute backends available in this JVM.",
    "reference: the scalar oracle; simd: the Vector API backend, with its vector width and thread count; "
            + "tornado: TornadoVM, when installed."
})
final class BackendsCommand implements Callable<Integer> {
    static final String VECTOR_MODULE = "jdk.incubator.vector";
    static final String TORNADO_API_CLASS = "uk.ac.manchester.tornado.api.TaskGraph";
    static final String TORNADO_RUNTIME_CLASS = "uk.ac.manchester.tornado.runtime.TornadoCoreRuntime";

    /** Tolerance of --check: float32 sums of a few dozen products against the double-accumulating oracle. */
    static final double CHECK_TOLERANCE = 1e-4;

    @Spec
    CommandSpec spec;

    @Option(names = "--check", description = "Also run a small matmul and layerNorm on each available backend "
            + "and print the largest difference from the reference backend (fails when above " + CHECK_TOLERANCE + ").")
    boolean check;

    static final String AVAILABLE = "available", UNAVAILABLE = "unavailable", NOT_INSTALLED = "not installed";

    /** One line of the listing. The factory is null when the backend cannot run in this JVM. */
    record Entry(String name, String status, String details, Supplier<Backend> factory) {}

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.printf("%-10s %-14s %s%n", "backend", "status", "details");
        boolean allPass = true;
        for (Entry e : entries()) {
            String details = e.details();
            if (check && e.factory() != null) {
                double diff = CheckRun.maxDifference(e.factory());
                allPass &= diff <= CHECK_TOLERANCE;
                details += String.format("; check: max |diff| vs reference %.2e %s", diff,
                        diff <= CHECK_TOLERANCE ? "(ok)" : "(FAILED, tolerance " + CHECK_TOLERANCE + ")");
            }
            out.printf("%-10s %-14s %s%n", e.name(), e.status(), details);
        }
        out.flush();
        if (!allPass) {
            throw new IllegalStateException("a backend differs from the reference by more than " + CHECK_TOLERANCE);
        }
        return 0;
    }

    /** The registered backends (see {@link Backends#providers()}), plus a line for tornado while none registers it. */
    static List<Entry> entries() {
        List<Entry> entries = new ArrayList<>();
        for (BackendProvider p : Backends.providers()) {
            entries.add(entry(p));
        }
        if (entries.stream().noneMatch(e -> e.name().equals("tornado"))) {
            entries.add(tornadoNotRegistered());
        }
        return entries;
    }

    private static Entry entry(BackendProvider p) {
        String details;
        try {
            details = p.describe();
        } catch (LinkageError e) {
            // A backend whose classes cannot link here, in practice simd in a JVM without the Vector API module.
            return new Entry(p.name(), UNAVAILABLE, "cannot load (" + e + ")"
                    + (vectorModuleMissing() ? "; start the JVM with --add-modules " + VECTOR_MODULE : ""), null);
        }
        if (p.available()) return new Entry(p.name(), AVAILABLE, details, () -> p.create(0));
        boolean tornadoMissing = p.name().equals("tornado") && !org.maejvm.tornado.TornadoDevices.runtimeInstalled();
        return new Entry(p.name(), tornadoMissing ? NOT_INSTALLED : UNAVAILABLE, details, null);
    }

    private static boolean vectorModuleMissing() {
        return ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty();
    }

    static Entry tornadoNotRegistered() {
        if (!onClassPath(TORNADO_API_CLASS)) {
            return new Entry("tornado", NOT_INSTALLED, "TornadoVM is not on the class path", null);
        }
        if (!onClassPath(TORNADO_RUNTIME_CLASS)) {
            return new Entry("tornado", NOT_INSTALLED, "tornado-api is present but no TornadoVM runtime: run inside a "
                    + "TornadoVM installation", null);
        }
        return new Entry("tornado", NOT_INSTALLED, "the TornadoVM runtime is here, but no mae tornado backend is registered",
                null);
    }

    private static boolean onClassPath(String className) {
        try {
            Class.forName(className, false, BackendsCommand.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** The --check workload: odd sizes, so vector tails and partial tiles are exercised too. */
    static final class CheckRun {
        static final int M = 37, K = 53, N = 29;

        static double maxDifference(Supplier<Backend> factory) {
            Random random = new Random(42);
            float[] a = randoms(random, M * K), b = randoms(random, K * N);
            float[] gamma = randoms(random, N), beta = randoms(random, N);
            try (Backend reference = new ReferenceBackend(); Backend tested = factory.get()) {
                List<float[]> want = run(reference, a, b, gamma, beta);
                List<float[]> got = run(tested, a, b, gamma, beta);
                double max = 0;
                for (int i = 0; i < want.size(); i++) {
                    max = Math.max(max, maxAbsDiff(want.get(i), got.get(i)));
                }
                return max;
            }
        }

        /** C = A B, then LayerNorm over the rows of C; returns [C, layerNorm(C)]. */
        private static List<float[]> run(Backend be, float[] a, float[] b, float[] gamma, float[] beta) {
            Tensor c = be.zeros(M, N), y = be.zeros(M, N);
            be.matmul(be.fromHost(a, M, K), be.fromHost(b, K, N), c);
            be.layerNormForward(c, be.fromHost(gamma, N), be.fromHost(beta, N), 1e-6f, y, be.zeros(M), be.zeros(M));
            List<float[]> results = new ArrayList<>();
            results.add(be.toHost(c));
            results.add(be.toHost(y));
            return results;
        }

        private static float[] randoms(Random random, int n) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float) random.nextGaussian();
            return x;
        }

        private static double maxAbsDiff(float[] x, float[] y) {
            double max = 0;
            for (int i = 0; i < x.length; i++) {
                double d = Math.abs((double) x[i] - y[i]);
                if (Double.isNaN(d)) return Double.POSITIVE_INFINITY;
                max = Math.max(max, d);
            }
            return max;
        }
    }
}
