package org.maejvm.nn;

import org.maejvm.tensor.Tensor;

/**
 * torch.nn.Linear: y = x Wᵀ + b with W stored [out, in]. x is [..., in] (any leading dims), y is [..., out].
 */
public final class Linear extends Layer {
    private final int in, out;
    private final Parameter weight, bias;
    private Tensor x, y, dx, last;

    public Linear(ParameterSet params, String prefix, int in, int out, boolean withBias) {
        super(params);
        this.in = in;
        this.out = out;
        this.weight = params.add(join(prefix, "weight"), true, out, in);
        this.bias = withBias ? params.add(join(prefix, "bias"), true, out) : null;
    }

    /** Wraps an existing [out, ...] weight tensor seen as [out, in] (PatchEmbed's conv kernel). */
    Linear(ParameterSet params, Parameter weight, Parameter bias, int in, int out) {
        super(params);
        this.in = in;
        this.out = out;
        this.weight = weight;
        this.bias = bias;
    }

    public Parameter weight() { return weight; }

    public Parameter bias() { return bias; }

    /** The output of the last forward (valid until the next one; a caller's buffer after {@link #forwardInto}). */
    public Tensor lastOutput() { return last; }

    public Tensor forward(Tensor input) {
        checkInput(input);
        y = ensure(y, outputShape(input));
        forwardInto(input, y);
        return y;
    }

    /** Writes y = x Wᵀ + b into {@code output} [..., out] (a caller's buffer; this layer keeps only x for backward). */
    public void forwardInto(Tensor input, Tensor output) {
        checkInput(input);
        if (output.size() != input.rows() * out) {
            throw new IllegalArgumentException("Linear(" + in + " -> " + out + ") output " + output + " does not fit input " + input);
        }
        this.x = input;
        this.last = output;
        backend.gemm(false, true, input.rows(), out, in, 1f, input, 0, in, weight.value(), 0, in, 0f, output, 0, out);
        if (bias != null) backend.addBias(output, bias.value());
    }

    /** Accumulates dW += dyᵀ x and db += column sums of dy; returns dx = dy W, or null when not needed. */
    public Tensor backward(Tensor dy, boolean needInputGrad) {
        if (!needInputGrad) {
            backwardInto(dy, null);
            return null;
        }
        dx = ensure(dx, x.shape());
        backwardInto(dy, dx);
        return dx;
    }

    public Tensor backward(Tensor dy) {
        return backward(dy, true);
    }

    /** As {@link #backward(Tensor)}, writing dx into {@code inputGrad} (shaped as the input); null skips dx. */
    public void backwardInto(Tensor dy, Tensor inputGrad) {
        int rows = x.rows();
        backend.gemm(true, false, out, in, rows, 1f, dy, 0, out, x, 0, in, 1f, weight.grad(), 0, in);
        if (bias != null) backend.biasGrad(dy, bias.grad());
        if (inputGrad == null) return;
        backend.gemm(false, false, rows, in, out, 1f, dy, 0, out, weight.value(), 0, in, 0f, inputGrad, 0, in);
    }

    private void checkInput(Tensor input) {
        if (input.cols() != in) {
            throw new IllegalArgumentException("Linear(" + in + " -> " + out + ") got input " + input);
        }
    }

    private int[] outputShape(Tensor input) {
        int[] shape = input.shape();
        shape[shape.length - 1] = out;
        return shape;
    }
}
