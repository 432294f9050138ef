package org.maejvm.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.maejvm.ops.Backend;
import org.maejvm.tensor.Shapes;

/** The parameters of a model in registration order, by official state_dict name. */
public final class ParameterSet {
    private final Backend backend;
    private final Map<String, Parameter> byName = new LinkedHashMap<>();

    public ParameterSet(Backend backend) {
        this.backend = backend;
    }

    public Backend backend() { return backend; }

    /** Registers a zero-initialised parameter; trainable ones get a zeroed gradient of the same shape. */
    public Parameter add(String name, boolean trainable, int... shape) {
        if (byName.containsKey(name)) throw new IllegalStateException("parameter registered twice: " + name);
        Parameter p = new Parameter(name, backend.zeros(shape), trainable ? backend.zeros(shape) : null);
        byName.put(name, p);
        return p;
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
}
