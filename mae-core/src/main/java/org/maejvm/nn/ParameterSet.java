package org.maejvm.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.maejvm.ops.Backend;
import org.maejvm.tensor.DType;
import org.maejvm.tensor.HostTensor;
import org.maejvm.tensor.Shapes;

/** The parameters of a model in registration order, by official state_dict name. */
public final class ParameterSet {
    private final Backend backend;
    private final Map<String, Parameter> byName = new LinkedHashMap<>();
    private final Map<String, Counter> counters = new LinkedHashMap<>();
    private final Workspace workspace;
    private int frozenDepth;

    public ParameterSet(Backend backend) {
        this.backend = backend;
        this.workspace = new Workspace(backend);
    }

    public Backend backend() { return backend; }

    /** The scratch buffers the layers of this model share (activation gradients, residual branches). */
    public Workspace workspace() { return workspace; }

    /** Registers a zero-initialised parameter; trainable ones get a zeroed gradient of the same shape. */
    public Parameter add(String name, boolean trainable, int... shape) {
        if (byName.containsKey(name)) throw new IllegalStateException("parameter registered twice: " + name);
        boolean withGrad = trainable && frozenDepth == 0;
        Parameter p = new Parameter(name, backend.zeros(shape), withGrad ? backend.zeros(shape) : null);
        byName.put(name, p);
        return p;
    }

    /**
     * Registers an integer buffer at 0 (e.g. BatchNorm's {@code num_batches_tracked}): not a parameter, saved and
     * loaded with them as a scalar int tensor.
     */
    public Counter addCounter(String name) {
        if (byName.containsKey(name) || counters.containsKey(name)) throw new IllegalStateException("registered twice: " + name);
        Counter c = new Counter(name);
        counters.put(name, c);
        return c;
    }

    /** The integer buffers, in registration order. */
    public List<Counter> counters() { return List.copyOf(counters.values()); }

    /**
     * Runs {@code registration} (typically layer constructors) with every parameter it adds registered as fixed:
     * no gradient, not optimised, still saved. For a copy of a network that is updated otherwise, such as an EMA
     * teacher.
     */
    public void fixed(Runnable registration) {
        frozenDepth++;
        try {
            registration.run();
        } finally {
            frozenDepth--;
        }
    }

    public Parameter get(String name) {
        Parameter p = byName.get(name);
        if (p == null) throw new IllegalArgumentException("no parameter named '" + name + "'");
        return p;
    }

    public boolean contains(String name) { return byName.containsKey(name); }

    public List<Parameter> all() { return Collections.unmodifiableList(new ArrayList<>(byName.values())); }

    public List<Parameter> trainable() {
        return byName.values().stream().filter(Parameter::trainable).toList();
    }

    public void zeroGrad() {
        for (Parameter p : byName.values()) if (p.trainable()) backend.fill(p.grad(), 0f);
    }

    /** Number of scalar values in trainable parameters. */
    public long trainableCount() {
        long n = 0;
        for (Parameter p : byName.values()) if (p.trainable()) n += Shapes.size(p.shape());
        return n;
    }

    /**
     * Host copies of every tensor under its official name, in registration order (a PyTorch state_dict), then the
     * counters as scalar int tensors.
     */
    public LinkedHashMap<String, HostTensor> stateDict() {
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
        for (Parameter p : byName.values()) out.put(p.name(), new HostTensor(backend.toHost(p.value()), p.shape()));
        for (Counter c : counters.values()) out.put(c.name(), new HostTensor(new int[] {(int) Math.min(c.value(), Integer.MAX_VALUE)}));
        return out;
    }

    /**
     * Copies named weights into the parameters with equal names and shapes. Strict loading fails, loading nothing,
     * when any parameter is missing, any key is unexpected or any shape differs; non-strict loading loads what
     * matches and reports the rest. A counter takes a one-element int (or float) tensor; a counter the weights lack
     * is set to 0 and not reported, as torch's BatchNorm does for checkpoints written before it had one.
     */
    public LoadReport load(Map<String, ? extends HostTensor> weights, boolean strict) {
        List<String> loaded = new ArrayList<>(), missing = new ArrayList<>(), unexpected = new ArrayList<>(),
                mismatched = new ArrayList<>();
        for (Parameter p : byName.values()) {
            HostTensor w = weights.get(p.name());
            if (w == null) missing.add(p.name());
            else if (!Arrays.equals(w.shape(), p.shape()) || w.dtype() != DType.F32) {
                mismatched.add(p.name() + " (file " + w + ", model " + Shapes.str(p.shape()) + ")");
            }
        }
        for (Counter c : counters.values()) {
            HostTensor w = weights.get(c.name());
            if (w != null && counterValue(w) < 0) mismatched.add(c.name() + " (file " + w + ", model a count >= 0 of shape [])");
        }
        for (String k : weights.keySet()) if (!byName.containsKey(k) && !counters.containsKey(k)) unexpected.add(k);
        LoadReport report = new LoadReport(loaded, missing, unexpected, mismatched);
        if (strict && !report.clean()) throw new IllegalArgumentException("strict weight loading failed: " + report);
        for (Parameter p : byName.values()) {
            HostTensor w = weights.get(p.name());
            if (w == null || !Arrays.equals(w.shape(), p.shape()) || w.dtype() != DType.F32) continue;
            backend.upload(w.data, p.value());
            loaded.add(p.name());
        }
        for (Counter c : counters.values()) {
            HostTensor w = weights.get(c.name());
            long v = w == null ? 0 : counterValue(w);
            if (v < 0) continue;
            c.set(v);
            if (w != null) loaded.add(c.name());
        }
        return report;
    }

    /** The value of a one-element int or integral float tensor, or -1 when it is not a count. */
    private static long counterValue(HostTensor w) {
        if (w.size() != 1) return -1;
        if (w.ints != null) return w.ints[0];
        float f = w.data[0];
        return f >= 0 && f == Math.rint(f) ? (long) f : -1;
    }
}
