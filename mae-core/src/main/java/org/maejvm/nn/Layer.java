package org.maejvm.nn;

import java.util.Arrays;
import org.maejvm.ops.Backend;
import org.maejvm.tensor.DType;
import org.maejvm.tensor.Tensor;

/**
 * Base of the layers: each keeps the activations its backward needs in its own buffers, reused from step to step
 * while the shapes stay the same (so the steady state allocates nothing). A tensor returned by forward or backward
 * stays valid until that layer's next forward or backward.
 *
 * <p>Memory plan: what backward needs from forward is the layer's own; what is needed only within one call (the
 * gradients passed between the sub-layers of a block, a residual branch before it is added) is borrowed from the
 * model's {@link Workspace} and released before the call returns, so those buffers exist once per model, not once
 * per layer. Composite layers therefore call their parts through the {@code forward(x, out)} and
 * {@code backward(dy, dx)} forms, which write into a buffer the caller provides.
 */
public abstract class Layer {
    protected final Backend backend;
    protected final Workspace workspace;

    protected Layer(Backend backend) {
        this.backend = backend;
        this.workspace = new Workspace(backend);
    }

    /** A layer of a model: shares the model's workspace. */
    protected Layer(ParameterSet params) {
        this.backend = params.backend();
        this.workspace = params.workspace();
    }

    /** Returns {@code current} if it already has this shape, otherwise a new zeroed tensor of the shape. */
    protected final Tensor ensure(Tensor current, int... shape) {
        return reuse(backend, current, DType.F32, shape);
    }

    /**
     * A step buffer: {@code current} when it already has this dtype and shape, otherwise a new zeroed tensor
     * (the old one freed), so buffers are allocated on the first step and reused after.
     */
    public static Tensor reuse(Backend backend, Tensor current, DType dtype, int... shape) {
        if (current != null && current.dtype() == dtype && Arrays.equals(current.shape(), shape)) return current;
        if (current != null) backend.free(current);
        return dtype == DType.F32 ? backend.zeros(shape) : backend.zerosInt(shape);
    }

    protected static String join(String prefix, String name) {
        return prefix.isEmpty() ? name : prefix + "." + name;
    }
}
