package org.maejvm.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.maejvm.ops.Backend;
import org.maejvm.ops.ReferenceBackend;
import org.maejvm.simd.SimdBackend;
import org.maejvm.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mae backends}: which compute backends this JVM can use, and (with --check) whether they compute right. */
@Command(name = "backends", description = {
    "List the compute backends available in this JVM.",
    "reference: the scalar oracle; simd: the Vector API backend, with its thread count and vector species; "
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

    /** One line of the listing. The factory is null when the backend cannot run in this JVM. */
    record Entry(String name, boolean available, String details, Supplier<Backend> factory) {}

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<Entry> entries = List.of(reference(), simd(), tornado());
        out.printf("%-10s %-14s %s%n", "backend", "status", "details");
        boolean allPass = true;
        for (Entry e : entries) {
            String details = e.details();
            if (check && e.factory() != null) {
                double diff = CheckRun.maxDifference(e.factory());
                allPass &= diff <= CHECK_TOLERANCE;
                details += String.format("; check: max |diff| vs reference %.2e %s", diff,
                        diff <= CHECK_TOLERANCE ? "(ok)" : "(FAILED, tolerance " + CHECK_TOLERANCE + ")");
            }
            out.printf("%-10s %-14s %s%n", e.name(), e.available() ? "available" : "not installed", details);
        }
        out.flush();
        if (!allPass) {
            throw new IllegalStateException("a backend differs from the reference by more than " + CHECK_TOLERANCE);
        }
        return 0;
    }

    static Entry reference() {
        return new Entry("reference", true, "scalar Java, double accumulation; the correctness oracle",
                ReferenceBackend::new);
    }

    static Entry simd() {
        if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty()) {
            return new Entry("simd", false, "the Vector API is not enabled: start the JVM with --add-modules "
                    + VECTOR_MODULE + " (./mae does)", null);
        }
        int threads;
        try (SimdBackend simd = new SimdBackend()) {
            threads = simd.threads();
        }
        return new Entry("simd", true, threads + " threads, vector species " + VectorInfo.preferredSpecies(),
                SimdBackend::new);
    }

    static Entry tornado() {
        if (!onClassPath(TORNADO_API_CLASS)) {
            return new Entry("tornado", false, "TornadoVM is not on the class path (see README, GPU backend)", null);
        }
        if (!onClassPath(TORNADO_RUNTIME_CLASS)) {
            return new Entry("tornado", false, "tornado-api is present but no TornadoVM runtime: run inside a "
                    + "TornadoVM installation", null);
        }
        // The runtime is here; mae's tornado backend is not wired to the command line yet, so do not claim it runs.
        return new Entry("tornado", false, "TornadoVM runtime found; mae's tornado backend is not available "
                + "from the command line yet", null);
    }

    private static boolean onClassPath(String className) {
        try {
            Class.forName(className, false, BackendsCommand.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Kept apart so that FloatVector is only loaded once the module is known to be present. */
    static final class VectorInfo {
        static String preferredSpecies() {
            var species = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
            return species + " (" + species.length() + " floats, " + species.vectorBitSize() + "-bit)";
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
