package uk.ac.manchester.tornado.api;

import java.util.concurrent.atomic.AtomicLong;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;
import uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Emulation of TornadoVM's execution plan: runs the tasks of its graphs in order on JVM threads. It counts the
 * bytes a device run would copy (transfers declared EVERY_EXECUTION, FIRST_EXECUTION ones on the first run, and
 * on-demand copies back), so tests can check what moves per training step.
 */
public class TornadoExecutionPlan implements AutoCloseable {
    static final AtomicLong BYTES_MOVED = new AtomicLong();

    private final ImmutableTaskGraph[] graphs;
    private GridScheduler scheduler;
    private int selected = -1;
    private boolean executed;
    private boolean closed;

    public TornadoExecutionPlan(ImmutableTaskGraph... immutableTaskGraphs) {
        if (immutableTaskGraphs.length == 0) throw new IllegalArgumentException("an execution plan needs at least one task graph");
        this.graphs = immutableTaskGraphs.clone();
    }

    public static TornadoDevice getDevice(int driverIndex, int deviceIndex) {
        return TornadoRuntimeProvider.getTornadoRuntime().getBackend(driverIndex).getDevice(deviceIndex);
    }

    /** Emulation only: bytes the emulated plans would have moved between host and device so far. */
    public static long emulatedBytesMoved() { return BYTES_MOVED.get(); }

    public TornadoExecutionPlan withGridScheduler(GridScheduler gridScheduler) {
        this.scheduler = gridScheduler;
        return this;
    }

    public TornadoExecutionPlan withDevice(TornadoDevice device) { return this; }

    public TornadoExecutionPlan withGraph(int graphIndex) {
        if (graphIndex < 0 || graphIndex >= graphs.length) {
            throw new IllegalArgumentException("graph index " + graphIndex + " outside [0, " + graphs.length + ")");
        }
        selected = graphIndex;
        return this;
    }

    public TornadoExecutionPlan withAllGraphs() {
        selected = -1;
        return this;
    }

    public TornadoExecutionResult execute() {
        if (closed) throw new IllegalStateException("execution plan is closed");
        for (int g = 0; g < graphs.length; g++) {
            if (selected >= 0 && g != selected) continue;
            ImmutableTaskGraph graph = graphs[g];
            count(graph.toDevice);
            for (TaskGraph.Task task : graph.tasks) {
                String name = graph.name + "." + task.id();
                EmulatedLauncher.run(name, task.invoker(), task.args(), scheduler == null ? null : scheduler.get(name));
            }
            count(graph.toHost);
        }
        executed = true;
        return new TornadoExecutionResult();
    }

    private void count(java.util.List<TaskGraph.Transfer> transfers) {
        for (TaskGraph.Transfer t : transfers) {
            if (t.mode() == DataTransferMode.EVERY_EXECUTION || (t.mode() == DataTransferMode.FIRST_EXECUTION && !executed)) {
                for (Object o : t.objects()) BYTES_MOVED.addAndGet(bytes(o));
            }
        }
    }

    static long bytes(Object o) {
        if (o instanceof FloatArray f) return 4L * f.getSize();
        if (o instanceof IntArray i) return 4L * i.getSize();
        return 0;
    }

    public TornadoExecutionPlan freeDeviceMemory() { return this; }

    @Override
    public void close() throws TornadoExecutionPlanException {
        closed = true;
    }
}
