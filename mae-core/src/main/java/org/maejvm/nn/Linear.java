package org.maejvm.nn;

import org.maejvm.tensor.Tensor;

/**
 * torch.nn.Linear: y = x Wᵀ + b with W stored [out, in]. x is [..., in] (any leading dims), y is [..., out].
 */
public final class Linear extends Layer {
    private final int in, out;
    private final Parameter weight, bias;
    private Tensor x, y, dx;

    public Linear(ParameterSet params, String prefix, int in, int out, boolean withBias) {
        super(params.backend());
        this.in = in;
        this.out = out;
        this.weight = params.add(join(prefix, "weight"), true, out, in);
        this.bias = withBias ? params.add(join(prefix, "bias"), true, out) : null;
    }

    /** Wraps an existing [out, ...] weight tensor seen as [out, in] (PatchEmbed's conv kernel). */
    Linear(ParameterSet params, Parameter weight, Parameter bias, int in, int out) {
        super(params.backend());
        this.in = in;
        this.out = out;
        this.weight = weight;
        this.bias = bias;
    }

    public Parameter weight() { return weight; }

    public Parameter bias() { return bias; }

    /** The output of the last forward (valid until the next one). */
    public Tensor lastOutput() { return y; }

    public Tensor forward(Tensor input) {
        if (input.cols() != in) {
            throw new IllegalArgumentException("Linear(" + in + " -> " + out + ") got input " + input);
        }
        this.x = input;
        int rows = input.rows();
        int[] shape = input.shape();
        shape[shape.length - 1] = out;
        y = ensure(y, shape);
        backend.gemm(false, true, rows, out, in, 1f, input, 0, in, weight.value(), 0, in, 0f, y, 0, out);
        if (bias != null) backend.addBias(y, bias.value());
        return y;
    }

    /** Accumulates dW += dyᵀ x and db += column sums of dy; returns dx = dy W, or null when not needed. */
    public Tensor backward(Tensor dy, boolean needInputGrad) {
        int rows = x.rows();
        backend.gemm(true, false, out, in, rows, 1f, dy, 0, out, x, 0, in, 1f, weight.grad(), 0, in);
        if (bias != null) backend.biasGrad(dy, bias.grad());
        if (!needInputGrad) return null;
        dx = ensure(dx, x.shape());
        backend.gemm(false, false, rows, in, out, 1f, dy, 0, out, weight.value(), 0, in, 0f, dx, 0, in);
        return dx;
    }

    public Tensor backward(Tensor dy) {
        return backward(dy, true);
    }
}
