package org.maejvm.bench;

import java.util.function.Function;
import org.maejvm.ops.Backend;

/**
 * One op at one shape, ready to time on any backend.
 *
 * @param op     the Backend method, e.g. "layerNormForward"
 * @param variant tells apart cases of one op ("enc", "dec"), or "" when the op has one case
 * @param shape  the sizes in words, e.g. "[1568, 768]"
 * @param unit   whether {@code work} counts floating-point operations (compute-bound ops) or bytes moved
 * @param work   flops or bytes of one call (the model is written next to each case in {@link OpCases})
 * @param setup  allocates inputs on a backend (fixed seeds) and returns the call to time
 */
public record OpCase(String op, String variant, String shape, Unit unit, double work, Function<Backend, Runnable> setup) {

    /** Unique name of the case: "softmax", "attentionForward:enc". */
    public String id() {
        return variant.isEmpty() ? op : op + ":" + variant;
    }

    public enum Unit {
        /** Compute-bound: report GFLOP/s. */
        FLOP,
        /** Memory-bound: report GB/s of the bytes the op must read and write once. */
        BYTE
    }
}
