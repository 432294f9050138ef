package org.maejvm.nn;

import org.maejvm.tensor.Tensor;

/** torch.nn.LayerNorm over the last dimension, with weight and bias (MAE uses eps 1e-6). */
public final class LayerNorm extends Layer {
    public static final float MAE_EPS = 1e-6f;

    private final int dim;
    private final float eps;
    private final Parameter weight, bias;
    private Tensor x, y, mean, rstd, dx;

    public LayerNorm(ParameterSet params, String prefix, int dim, float eps) {
        super(params);
        this.dim = dim;
        this.eps = eps;
        this.weight = params.add(join(prefix, "weight"), true, dim);
        this.bias = params.add(join(prefix, "bias"), true, dim);
        backend.fill(weight.value(), 1f);
    }

    public Tensor forward(Tensor input) {
        if (input.cols() != dim) throw new IllegalArgumentException("LayerNorm(" + dim + ") got input " + input);
        this.x = input;
        y = ensure(y, input.shape());
        mean = ensure(mean, input.rows());
        rstd = ensure(rstd, input.rows());
        backend.layerNormForward(input, weight.value(), bias.value(), eps, y, mean, rstd);
        return y;
    }

    public Tensor backward(Tensor dy) {
        dx = ensure(dx, x.shape());
        backwardInto(dy, dx);
        return dx;
    }

    /** Writes the input gradient into {@code inputGrad} (shaped as the input); accumulates the weight and bias grads. */
    public void backwardInto(Tensor dy, Tensor inputGrad) {
        backend.layerNormBackward(dy, x, weight.value(), mean, rstd, inputGrad, weight.grad(), bias.grad());
    }
}
