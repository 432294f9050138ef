package uk.ac.manchester.tornado.api;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs one task of the emulation. A task with a {@link KernelContext} argument runs once per work-item of its
 * grid: work-groups one after another, the work-items of a group as virtual threads (so barriers can block), each
 * with its own context. A task without one is a {@code @Parallel}-loop kernel and runs once, its loops plain.
 */
final class EmulatedLauncher {
    private EmulatedLauncher() {}

    interface Invoker {
        void invoke(Object[] args);
    }

    static void run(String taskName, Invoker invoker, Object[] args, WorkerGrid grid) {
        int contextAt = -1;
        for (int i = 0; i < args.length; i++) if (args[i] instanceof KernelContext) contextAt = i;
        if (contextAt < 0) {
            invoker.invoke(args);
            return;
        }
        if (grid == null) {
            throw new IllegalStateException(taskName + ": a KernelContext task needs a worker grid; add one with "
                    + "GridScheduler.addWorkerGrid(\"" + taskName + "\", ...) and withGridScheduler");
        }
        long[] global = grid.getGlobalWork();
        long[] local = grid.getLocalWork() == null ? new long[] {1, 1, 1} : grid.getLocalWork();
        int gx = (int) global[0], gy = (int) global[1], lx = (int) local[0], ly = (int) local[1];
        if (global[2] != 1 || local[2] != 1) throw new IllegalArgumentException(taskName + ": 3-D grids are not emulated");
        if (lx <= 0 || ly <= 0 || gx % lx != 0 || gy % ly != 0) {
            throw new IllegalArgumentException(taskName + ": global work " + gx + "x" + gy + " is not a multiple of the local work "
                    + lx + "x" + ly + " (OpenCL requires it)");
        }
        for (int groupY = 0; groupY < gy / ly; groupY++) {
            for (int groupX = 0; groupX < gx / lx; groupX++) {
                runGroup(taskName, invoker, args, contextAt, groupX, groupY, lx, ly, gx, gy);
            }
        }
    }

    private static void runGroup(String taskName, Invoker invoker, Object[] args, int contextAt,
                                 int groupX, int groupY, int lx, int ly, int gx, int gy) {
        EmulatedGroup group = new EmulatedGroup(lx * ly, taskName);
        if (lx * ly == 1) {
            invoker.invoke(withContext(args, contextAt, new KernelContext(group, 0, 0, groupX, groupY, groupX, groupY, 1, 1, gx, gy)));
            return;
        }
        List<Thread> threads = new ArrayList<>(lx * ly);
        Throwable[] first = new Throwable[1];
        for (int y = 0; y < ly; y++) {
            for (int x = 0; x < lx; x++) {
                KernelContext ctx = new KernelContext(group, x, y, groupX, groupY, groupX * lx + x, groupY * ly + y, lx, ly, gx, gy);
                Object[] itemArgs = withContext(args, contextAt, ctx);
                threads.add(Thread.ofVirtual().unstarted(() -> {
                    Throwable error = null;
                    try {
                        invoker.invoke(itemArgs);
                    } catch (Throwable t) {
                        error = t;
                    }
                    try {
                        group.exit(error);
                    } catch (RuntimeException divergent) {
                        error = error == null ? divergent : error;
                    }
                    if (error != null && !(error instanceof EmulatedGroup.GroupAborted)) {
                        synchronized (first) {
                            if (first[0] == null) first[0] = error;
                        }
                    }
                }));
            }
        }
        for (Thread t : threads) t.start();
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(taskName + ": interrupted while waiting for a work-group", e);
            }
        }
        Throwable error = first[0];
        if (error == null && group.failure() != null) error = group.failure();
        if (error instanceof RuntimeException re) throw re;
        if (error instanceof Error e) throw e;
        if (error != null) throw new IllegalStateException(taskName + ": " + error, error);
    }

    private static Object[] withContext(Object[] args, int at, KernelContext ctx) {
        Object[] copy = args.clone();
        copy[at] = ctx;
        return copy;
    }
}
