package org.maejvm.bench.blas;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.maejvm.bench.Measure;

/**
 * Picks the OpenBLAS build the benchmarks compare against. With {@link Choice#AUTO} both builds are loaded,
 * each is timed on the same GEMM at the requested thread count, and the faster one is kept; when Debian's
 * library is missing the notes say which package to install and JavaCPP's build is used.
 */
public final class OpenBlasSelector {
    private OpenBlasSelector() {}

    public enum Choice { AUTO, DEBIAN, JAVACPP, NONE }

    /** The chosen library (null with NONE or when nothing loads) and what led to it, one line per fact. */
    public record Selection(Sgemm sgemm, List<String> notes) {
        /** The short id of the chosen build ("debian", "javacpp"), or "none". */
        public String label() {
            return sgemm == null ? "none" : sgemm.name();
        }
    }

    /** Size of the probe GEMM: large enough to use every thread, short enough to time in well under a second. */
    static final int PROBE_SIZE = 768;

    public static Selection select(Choice choice, int threads) {
        List<String> notes = new ArrayList<>();
        if (choice == Choice.NONE) {
            notes.add("OpenBLAS comparison disabled");
            return new Selection(null, notes);
        }
        Sgemm debian = choice == Choice.JAVACPP ? null : tryLoad("debian", DebianOpenBlas::load, threads, notes);
        Sgemm javacpp = choice == Choice.DEBIAN ? null : tryLoad("javacpp", JavacppOpenBlas::load, threads, notes);
        if (debian == null && javacpp == null) return new Selection(null, notes);
        if (debian == null || javacpp == null) {
            Sgemm only = debian != null ? debian : javacpp;
            notes.add("using " + only.name() + ": " + only.describe());
            return new Selection(only, notes);
        }
        double gDebian = probe(debian), gJavacpp = probe(javacpp);
        Sgemm faster = gDebian >= gJavacpp ? debian : javacpp;
        notes.add(String.format(Locale.ROOT, "probe %d^3 NN at %d threads: debian %.1f, javacpp %.1f GFLOP/s",
                PROBE_SIZE, threads, gDebian, gJavacpp));
        notes.add("using " + faster.name() + " (faster): " + faster.describe());
        return new Selection(faster, notes);
    }

    private interface Loader { Sgemm load(); }

    private static Sgemm tryLoad(String name, Loader loader, int threads, List<String> notes) {
        try {
            Sgemm s = loader.load();
            s.setThreads(threads);
            notes.add(name + ": " + s.describe() + ", " + s.threads() + " threads");
            return s;
        } catch (RuntimeException | LinkageError e) {
            notes.add(name + " unavailable: " + e.getMessage());
            return null;
        }
    }

    /** Best GFLOP/s of a square NN sgemm, then a pause so the library's spinning workers go idle. */
    static double probe(Sgemm s) {
        int n = PROBE_SIZE;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = randomSegment(arena, n * n, 1), b = randomSegment(arena, n * n, 2);
            MemorySegment c = arena.allocate(ValueLayout.JAVA_FLOAT, (long) n * n);
            Measure.Timing t = Measure.time(() -> s.sgemm(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n), 0.15, 0.1);
            Measure.quiesce();
            return 2.0 * n * n * n / t.bestNanos();
        }
    }

    /** Off-heap floats in [-1, 1) from a fixed seed. */
    public static MemorySegment randomSegment(Arena arena, long count, long seed) {
        MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT, count);
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (long i = 0; i < count; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (r.nextDouble() * 2 - 1));
        return s;
    }
}
