package org.maejvm.tornado;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.maejvm.tornado.kernels.ElementwiseKernels;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Task graphs built once per distinct kernel call and reused: an op called again with the same buffers and
 * scalars (every step of a training loop, whose activations are reused buffers) runs its frozen plan again, with
 * no new graph and no recompilation.
 *
 * <p>Transfer policy, the one place it lives: the host copy of a tensor (its TornadoVM array) is the current
 * one. A kernel graph copies the tensors it uses to the device before every run and back after it
 * (EVERY_EXECUTION); its own small parameter and scratch buffers go once (FIRST_EXECUTION). TornadoVM 5.2 keeps
 * device buffers per task graph: {@code persistOnDevice}/{@code consumeFromDevice} hand a buffer only to the
 * next graph of the same execution plan, so separate plans cannot share device-resident tensors (on the real
 * runtime a consumed buffer of another plan is a null device buffer). Keeping a training step on the device
 * needs the step's kernels in one task graph (docs/TORNADO.md). The least recently used plans are closed once
 * there are more than {@link #CAPACITY}.
 */
final class KernelPlans implements AutoCloseable {
    static final int CAPACITY = 4096;

    private final TornadoDevice device;
    private final LinkedHashMap<List<Object>, Plan> plans = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<List<Object>, Plan> eldest) {
            if (size() <= CAPACITY) return false;
            eldest.getValue().close();
            return true;
        }
    };
    private long graphs;

    KernelPlans(TornadoDevice device) {
        this.device = device;
    }

    /** A buffer compared by identity inside a plan key. */
    private record Id(Object ref) {
        @Override
        public boolean equals(Object o) { return o instanceof Id other && other.ref == ref; }

        @Override
        public int hashCode() { return System.identityHashCode(ref); }
    }

    /** The key of a kernel call: its op name and arguments, buffers by identity, scalars by value. */
    static List<Object> key(String op, Object... parts) {
        List<Object> key = new ArrayList<>(parts.length + 1);
        key.add(op);
        for (Object p : parts) key.add(p instanceof FloatArray || p instanceof IntArray ? new Id(p) : p);
        return key;
    }

    /** Number of task graphs built so far (tests check that a repeated step builds none). */
    long graphsBuilt() { return graphs; }

    int size() { return plans.size(); }

    /** The plan for key if it was built, without running it. */
    Plan lookup(List<Object> key) {
        return plans.get(key);
    }

    /** Runs the plan for key, building it with build on first use. */
    Plan run(List<Object> key, Consumer<Builder> build) {
        Plan plan = plans.get(key);
        if (plan == null) {
            Builder b = new Builder((String) key.get(0) + "_" + graphs++, key);
            build.accept(b);
            plan = b.finish();
            plans.put(key, plan);
        }
        plan.execute();
        return plan;
    }

    /** Drops the plans that use a buffer (when its tensor is freed). */
    void forget(Object buffer) {
        Id id = new Id(buffer);
        plans.entrySet().removeIf(e -> {
            if (!e.getKey().contains(id)) return false;
            e.getValue().close();
            return true;
        });
    }

    @Override
    public void close() {
        for (Plan p : plans.values()) p.close();
        plans.clear();
    }

    /** One frozen task graph and its execution plan, with the per-plan scratch and result buffers. */
    static final class Plan {
        private final TornadoExecutionPlan plan;
        final List<FloatArray> results;
        final List<FloatArray> perRun;

        Plan(TornadoExecutionPlan plan, List<FloatArray> results, List<FloatArray> perRun) {
            this.plan = plan;
            this.results = results;
            this.perRun = perRun;
        }

        void execute() { plan.execute(); }

        void close() {
            try {
                plan.close();
            } catch (TornadoExecutionPlanException e) {
                throw new IllegalStateException("could not release a TornadoVM execution plan: " + e.getMessage(), e);
            }
        }
    }

    /**
     * Assembles one task graph: first the parameter, scratch and result buffers ({@link #ints}, {@link #scratch},
     * {@link #result}, {@link #perRun}), then {@link #graph()} and its tasks with their worker grids.
     */
    final class Builder {
        final String name;
        private final List<Object> tensors = new ArrayList<>();
        private final List<Object> buffers = new ArrayList<>();
        private final Map<Object, Boolean> seen = new IdentityHashMap<>();
        private final List<FloatArray> results = new ArrayList<>();
        private final List<FloatArray> perRun = new ArrayList<>();
        private final GridScheduler grids = new GridScheduler();
        private TaskGraph graph;

        private Builder(String name, List<Object> key) {
            this.name = name;
            for (Object part : key) {
                if (part instanceof Id id && seen.put(id.ref(), Boolean.TRUE) == null) tensors.add(id.ref());
            }
        }

        private void addBuffer(Object buffer) {
            if (graph != null) throw new IllegalStateException(name + ": buffers must be declared before graph()");
            if (seen.put(buffer, Boolean.TRUE) == null) buffers.add(buffer);
        }

        /** A parameter buffer of ints, fixed for the life of the plan. */
        IntArray ints(int... values) {
            IntArray a = new IntArray(values.length);
            for (int i = 0; i < values.length; i++) a.set(i, values[i]);
            addBuffer(a);
            return a;
        }

        /** A device scratch buffer for intermediate results between the graph's tasks. */
        FloatArray scratch(int n) {
            FloatArray a = new FloatArray(Math.max(1, n));
            a.init(0f);
            addBuffer(a);
            return a;
        }

        /** A small buffer copied back to the host after every run (a loss, a sum). */
        FloatArray result(int n) {
            FloatArray a = scratch(n);
            results.add(a);
            return a;
        }

        /** A small buffer the host rewrites before every run (optimizer hyper-parameters). */
        FloatArray perRun(int n) {
            FloatArray a = new FloatArray(n);
            a.init(0f);
            if (graph != null) throw new IllegalStateException(name + ": buffers must be declared before graph()");
            perRun.add(a);
            return a;
        }

        /** The task graph, with the transfers declared so far. */
        TaskGraph graph() {
            if (graph == null) {
                graph = new TaskGraph(name);
                if (!perRun.isEmpty()) graph.transferToDevice(DataTransferMode.EVERY_EXECUTION, perRun.toArray());
                if (!tensors.isEmpty()) graph.transferToDevice(DataTransferMode.EVERY_EXECUTION, tensors.toArray());
                if (!buffers.isEmpty()) graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, buffers.toArray());
            }
            return graph;
        }

        /**
         * Declares that the graph's next kernel writes only part of {@code out}: a {@link ElementwiseKernels#touch}
         * task first makes TornadoVM copy it in, so the rest keeps its values. Call it before the kernel's task.
         */
        void partialOutput(FloatArray out) {
            graph().task("touch" + touched++, ElementwiseKernels::touch, out);
        }

        private int touched;

        /** The work-group layout of a KernelContext task. */
        void grid(String task, WorkerGrid grid) {
            grids.addWorkerGrid(name + "." + task, grid);
        }

        private Plan finish() {
            TaskGraph g = graph();
            // every tensor comes back, read-only ones too: the graph does not know which arguments a kernel writes
            if (!tensors.isEmpty()) g.transferToHost(DataTransferMode.EVERY_EXECUTION, tensors.toArray());
            if (!results.isEmpty()) g.transferToHost(DataTransferMode.EVERY_EXECUTION, results.toArray());
            ImmutableTaskGraph frozen = g.snapshot();
            TornadoExecutionPlan plan = new TornadoExecutionPlan(frozen);
            if (!grids.keySet().isEmpty()) plan.withGridScheduler(grids);
            if (device != null) plan.withDevice(device);
            return new Plan(plan, List.copyOf(results), List.copyOf(perRun));
        }
    }
}
