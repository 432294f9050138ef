package uk.ac.manchester.tornado.api;

public class WorkerGrid1D extends AbstractWorkerGrid {
    public WorkerGrid1D(int x) { super(x, 1, 1); }

    @Override
    public int dimension() { return 1; }
}
