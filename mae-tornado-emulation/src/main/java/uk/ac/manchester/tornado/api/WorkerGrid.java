package uk.ac.manchester.tornado.api;

/** Emulation: the global and local (work-group) sizes of one kernel launch. */
public interface WorkerGrid {
    int dimension();

    long[] getGlobalWork();

    long[] getLocalWork();

    void setGlobalWork(long x, long y, long z);

    void setLocalWork(long x, long y, long z);

    void setLocalWorkToNull();
}
