package org.maejvm.nn;

import org.maejvm.tensor.Tensor;

/**
 * Layer scale (CaiT; BEiT and CAE's {@code gamma_1 * attn(x)}): a learnable per-channel factor on a residual
 * branch, initialised to a small constant so each block starts close to the identity. Input and output [..., C].
 */
public final class LayerScale extends Layer {
    private final Parameter gamma;
    private Tensor x, y, dx;

    /** A parameter named {@code name}, [dim], filled with {@code initValue}; fixed (no gradient) unless trainable. */
    public LayerScale(ParameterSet params, String name, int dim, double initValue, boolean trainable) {
        super(params.backend());
        gamma = params.add(name, trainable, dim);
        backend.fill(gamma.value(), (float) initValue);
    }

    public Parameter gamma() { return gamma; }

    public Tensor forward(Tensor input) {
        this.x = input;
        y = ensure(y, input.shape());
        backend.scaleColumns(input, gamma.value(), y);
        return y;
    }

    /** Accumulates d(gamma) when trainable; returns dx. */
    public Tensor backward(Tensor dy) {
        dx = ensure(dx, dy.shape());
        backend.scaleColumnsBackward(dy, x, gamma.value(), dx, gamma.grad());
        return dx;
    }
}
