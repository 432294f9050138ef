package uk.ac.manchester.tornado.api;

/** Emulation: a worker grid; without local work each work-item is its own group. */
public abstract class AbstractWorkerGrid implements WorkerGrid {
    private final long[] global;
    private long[] local;

    protected AbstractWorkerGrid(long x, long y, long z) {
        global = new long[] {x, y, z};
    }

    @Override
    public long[] getGlobalWork() { return global.clone(); }

    @Override
    public long[] getLocalWork() { return local == null ? null : local.clone(); }

    @Override
    public void setGlobalWork(long x, long y, long z) {
        global[0] = x;
        global[1] = y;
        global[2] = z;
    }

    @Override
    public void setLocalWork(long x, long y, long z) { local = new long[] {x, y, z}; }

    @Override
    public void setLocalWorkToNull() { local = null; }
}
