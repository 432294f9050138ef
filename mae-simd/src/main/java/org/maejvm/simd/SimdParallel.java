package org.maejvm.simd;

/**
 * Splits a loop over {@code n} items into contiguous ranges and runs them on a {@link ThreadPool}.
 *
 * <p>A range is a task, and tasks are numbered, so a reduction keeps one partial result per task index and
 * combines them in index order afterwards: the result does not depend on which thread ran which task.
 * Small loops run on the calling thread, where waking the workers would cost more than it saves.
 */
final class SimdParallel {
    private SimdParallel() {}

    /** Work units (roughly one float op each) below which a task is not worth handing to another thread. */
    static final long MIN_TASK_WORK = 32_768;

    /** Runs one range [from, to) as task {@code task}. */
    @FunctionalInterface
    interface RangeBody {
        void run(int task, int from, int to);
    }

    /**
     * How many ranges to split {@code n} items into when each costs {@code workPerItem} units: one when the whole
     * loop is small, at most a few per thread (dynamic scheduling evens out uneven tasks).
     */
    static int tasks(ThreadPool pool, int n, long workPerItem) {
        if (n <= 0) return 0;
        if (n == 1 || pool.threads() == 1) return 1;
        long total = (long) n * Math.max(1, workPerItem);
        long byWork = Math.max(1, total / MIN_TASK_WORK);
        return (int) Math.min(Math.min(n, byWork), 4L * pool.threads());
    }

    /** Runs body over [0, n) split into {@code tasks} near-equal ranges. */
    static void run(ThreadPool pool, int n, int tasks, RangeBody body) {
        run(pool, n, tasks, 1, body);
    }

    /**
     * As {@link #run(ThreadPool, int, int, RangeBody)}, with every range but the last starting and ending on a
     * multiple of {@code align}. Elementwise kernels use this so that only the very end of the array goes
     * through the scalar tail: the result is then the same bits whatever the thread count.
     */
    static void run(ThreadPool pool, int n, int tasks, int align, RangeBody body) {
        if (n <= 0 || tasks <= 0) return;
        if (tasks == 1) {
            body.run(0, 0, n);
            return;
        }
        pool.parallelFor(tasks, t -> body.run(t, start(n, tasks, t, align), start(n, tasks, t + 1, align)));
    }

    /** Shorthand: split by {@link #tasks} and run. */
    static void run(ThreadPool pool, int n, long workPerItem, RangeBody body) {
        run(pool, n, tasks(pool, n, workPerItem), 1, body);
    }

    /** Elementwise shorthand: split by {@link #tasks}, ranges aligned to {@link #ELEMENT_ALIGN}. */
    static void runElements(ThreadPool pool, int n, long workPerItem, RangeBody body) {
        run(pool, n, tasks(pool, n, workPerItem), ELEMENT_ALIGN, body);
    }

    /** A multiple of every float vector length (up to 512 bits) and of a 64-byte cache line. */
    static final int ELEMENT_ALIGN = 16;

    static int start(int n, int tasks, int t, int align) {
        if (t >= tasks) return n;
        int s = (int) ((long) n * t / tasks);
        return s / align * align;
    }
}
