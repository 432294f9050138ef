package uk.ac.manchester.tornado.api;

/** Emulation: the result of one execution; on-demand copies back to the host are counted, nothing to copy. */
public class TornadoExecutionResult {
    TornadoExecutionResult() {}

    public TornadoExecutionResult transferToHost(Object... objects) {
        for (Object o : objects) TornadoExecutionPlan.BYTES_MOVED.addAndGet(TornadoExecutionPlan.bytes(o));
        return this;
    }

    public boolean isReady() { return true; }
}
