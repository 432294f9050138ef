package org.maejvm.bench;

import java.util.Arrays;

/**
 * Wall-clock timing for the plain-Java runner: warm up (so the JIT has compiled the kernels), then time
 * several samples of back-to-back calls and keep the best and the median time per call.
 */
public final class Measure {
    private Measure() {}

    /** Samples per measurement; the best and the median are taken over these. */
    static final int SAMPLES = 5;

    /** Calls made in warm-up at the least (unless that takes over {@link #MAX_WARMUP_SECONDS}). */
    static final int MIN_WARMUP_CALLS = 200;
    static final double MAX_WARMUP_SECONDS = 3.0;

    /** Nanoseconds per call: the fastest sample and the median sample, and how many calls were timed. */
    public record Timing(double bestNanos, double medianNanos, int calls) {}

    /**
     * Warms up for about {@code warmupSeconds}, then times {@link #SAMPLES} samples filling about
     * {@code measureSeconds} together. A call slower than the whole measurement is timed once more after
     * its warm-up call, so a slow kernel costs two calls rather than minutes.
     */
    public static Timing time(Runnable body, double measureSeconds, double warmupSeconds) {
        long last = warmUp(body, measureSeconds, warmupSeconds);
        Plan plan = Plan.of(last, measureSeconds);
        double[] perCall = new double[plan.samples];
        for (int s = 0; s < plan.samples; s++) perCall[s] = sample(body, plan.reps);
        return summarise(perCall, plan);
    }

    /** Both timings of {@link #timePair}. */
    public record Pair(Timing first, Timing second) {
        /** How much faster first is than second: second's best time over first's. */
        public double speedup() { return second.bestNanos() / first.bestNanos(); }
    }

    /**
     * Times two implementations of the same work side by side: both are warmed up, then their samples alternate
     * (first, second, first, ...), so a change in machine load (a shared VM) hits both alike and their ratio stays
     * meaningful. Each sample follows one untimed call of its body. {@code afterSecond} runs after each sample of the second, untimed (e.g. {@link #quiesce()} to
     * let OpenBLAS workers stop spinning before the next sample of the first).
     */
    public static Pair timePair(Runnable first, Runnable second, Runnable afterSecond,
                                double measureSeconds, double warmupSeconds) {
        Plan p1 = Plan.of(warmUp(first, measureSeconds, warmupSeconds), measureSeconds);
        Plan p2 = Plan.of(warmUp(second, measureSeconds, warmupSeconds), measureSeconds);
        afterSecond.run();
        int samples = Math.max(p1.samples, p2.samples);
        double[] t1 = new double[samples], t2 = new double[samples];
        for (int s = 0; s < samples; s++) {
            // One untimed call before each sample: after the pause, a thread pool's workers are parked and
            // may first be woken on a busy core; the sample is to measure the work, not the wake-up.
            first.run();
            t1[s] = sample(first, p1.reps);
            second.run();
            t2[s] = sample(second, p2.reps);
            afterSecond.run();
        }
        return new Pair(summarise(t1, p1), summarise(t2, p2));
    }

    /** Calls the body until the JIT has compiled it; returns the duration of the last call. */
    private static long warmUp(Runnable body, double measureSeconds, double warmupSeconds) {
        long start = System.nanoTime();
        long warmupEnd = start + (long) (warmupSeconds * 1e9);
        // Vector-API code runs orders of magnitude slower until C2 has compiled it: besides the time, warm up
        // for a minimum number of calls, unless one call already outlasts the whole measurement (a slow
        // kernel is timed once, see above) and within a bound, so that no kernel can stall the run.
        long hardEnd = start + (long) (Math.max(warmupSeconds, MAX_WARMUP_SECONDS) * 1e9);
        long last;
        int calls = 0;
        do {
            long t0 = System.nanoTime();
            body.run();
            last = System.nanoTime() - t0;
            calls++;
        } while (System.nanoTime() < warmupEnd
                || (calls < MIN_WARMUP_CALLS && last < measureSeconds * 1e9 && System.nanoTime() < hardEnd));
        return last;
    }

    /** How many samples of how many back-to-back calls fill the measurement, given one call's duration. */
    private record Plan(int samples, int reps) {
        static Plan of(long lastCallNanos, double measureSeconds) {
            double totalNanos = measureSeconds * 1e9, sampleNanos = totalNanos / SAMPLES;
            int samples = lastCallNanos >= totalNanos ? 1
                    : (int) Math.min(SAMPLES, Math.max(2, Math.round(totalNanos / lastCallNanos)));
            int reps = (int) Math.max(1, Math.round(sampleNanos / Math.max(1, lastCallNanos)));
            return new Plan(samples, reps);
        }
    }

    /** Nanoseconds per call over reps back-to-back calls. */
    private static double sample(Runnable body, int reps) {
        long t0 = System.nanoTime();
        for (int r = 0; r < reps; r++) body.run();
        return (double) (System.nanoTime() - t0) / reps;
    }

    private static Timing summarise(double[] perCall, Plan plan) {
        Arrays.sort(perCall);
        return new Timing(perCall[0], perCall[perCall.length / 2], perCall.length * plan.reps);
    }

    /**
     * Waits until OpenBLAS worker threads have stopped spinning. After a call they busy-wait for about
     * 2^28 cycles (~0.1 s) before sleeping; on a small machine they would otherwise steal cores from the next
     * measurement.
     */
    public static void quiesce() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
