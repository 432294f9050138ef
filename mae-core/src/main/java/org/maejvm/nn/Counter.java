package org.maejvm.nn;

/**
 * An integer buffer of a model kept on the host, such as BatchNorm's {@code num_batches_tracked}: saved in the
 * state_dict as a scalar int tensor (shape []) under its official name, never optimised.
 */
public final class Counter {
    private final String name;
    private long value;

    Counter(String name) {
        this.name = name;
    }

    public String name() { return name; }

    public long value() { return value; }

    public void set(long v) {
        if (v < 0) throw new IllegalArgumentException(name + " must be >= 0, got " + v);
        value = v;
    }

    public void increment() { value++; }
}
