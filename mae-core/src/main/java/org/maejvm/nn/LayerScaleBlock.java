package org.maejvm.nn;

import org.maejvm.tensor.Tensor;

/**
 * BEiT's and CAE's pre-norm transformer block: x = x + drop_path(gamma_1 * attn(norm1(x)));
 * x = x + drop_path(gamma_2 * mlp(norm2(x))), with {@link QvBiasAttention} and layer scale (no gammas when
 * {@code initValue} is 0, as the official code). The official block applies one DropPath module to both branches,
 * so each draws its own mask: here one {@link DropPath} per branch, identities until a mask is sampled or set.
 * Input and output [B, T, C].
 */
public final class LayerScaleBlock extends Layer {
    private final LayerScale gamma1, gamma2;
    private final LayerNorm norm1, norm2;
    private final QvBiasAttention attn;
    private final Mlp mlp;
    private final DropPath dropPath1, dropPath2;
    private Tensor mid, out, dMid, dx;

    public LayerScaleBlock(ParameterSet params, String prefix, int dim, int heads, double mlpRatio, double initValue) {
        this(params, prefix, dim, heads, mlpRatio, initValue, 0);
    }

    /** With stochastic depth of rate {@code dropPathRate} on both residual branches. */
    public LayerScaleBlock(ParameterSet params, String prefix, int dim, int heads, double mlpRatio, double initValue,
                           double dropPathRate) {
        super(params.backend());
        dropPath1 = new DropPath(backend, dropPathRate);
        dropPath2 = new DropPath(backend, dropPathRate);
        if (!(initValue >= 0)) throw new IllegalArgumentException("layer scale init value must be >= 0, got " + initValue);
        // Official order: the block's own gamma_1, gamma_2, then norm1, attn, norm2, mlp.
        gamma1 = initValue > 0 ? new LayerScale(params, join(prefix, "gamma_1"), dim, initValue, true) : null;
        gamma2 = initValue > 0 ? new LayerScale(params, join(prefix, "gamma_2"), dim, initValue, true) : null;
        norm1 = new LayerNorm(params, join(prefix, "norm1"), dim, LayerNorm.MAE_EPS);
        attn = new QvBiasAttention(params, join(prefix, "attn"), dim, heads);
        norm2 = new LayerNorm(params, join(prefix, "norm2"), dim, LayerNorm.MAE_EPS);
        mlp = new Mlp(params, join(prefix, "mlp"), dim, (int) (dim * mlpRatio));
    }

    public Tensor forward(Tensor x) {
        mid = ensure(mid, x.shape());
        dropPath1.addResidual(x, scaled(gamma1, attn.forward(norm1.forward(x))), mid);
        out = ensure(out, x.shape());
        dropPath2.addResidual(mid, scaled(gamma2, mlp.forward(norm2.forward(mid))), out);
        return out;
    }

    public Tensor backward(Tensor dy) {
        dMid = ensure(dMid, dy.shape());
        backend.add(dy, norm2.backward(mlp.backward(unscaled(gamma2, dropPath2.backward(dy)))), dMid);
        dx = ensure(dx, dy.shape());
        backend.add(dMid, norm1.backward(attn.backward(unscaled(gamma1, dropPath1.backward(dMid)))), dx);
        return dx;
    }

    /** Stochastic depth on the attention branch. */
    public DropPath dropPathAttn() { return dropPath1; }

    /** Stochastic depth on the MLP branch. */
    public DropPath dropPathMlp() { return dropPath2; }

    private static Tensor scaled(LayerScale gamma, Tensor branch) {
        return gamma == null ? branch : gamma.forward(branch);
    }

    private static Tensor unscaled(LayerScale gamma, Tensor dy) {
        return gamma == null ? dy : gamma.backward(dy);
    }
}
