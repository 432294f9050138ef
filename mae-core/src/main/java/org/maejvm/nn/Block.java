package org.maejvm.nn;

import org.maejvm.tensor.Tensor;

/** timm's pre-norm transformer Block: x = x + attn(norm1(x)); x = x + mlp(norm2(x)). Input and output [B, T, C]. */
public final class Block extends Layer {
    private final LayerNorm norm1, norm2;
    private final Attention attn;
    private final Mlp mlp;
    private final DropPath dropPath1, dropPath2;
    private Tensor mid, out, dMid, dx;

    public Block(ParameterSet params, String prefix, int dim, int heads, double mlpRatio) {
        this(params, prefix, dim, heads, mlpRatio, 0);
    }

    /**
     * With stochastic depth on both residual branches (timm's Block: one DropPath module applied to each branch,
     * so the two draw independent masks). Each is the identity until its mask is sampled or set.
     */
    public Block(ParameterSet params, String prefix, int dim, int heads, double mlpRatio, double dropPathRate) {
        super(params.backend());
        dropPath1 = new DropPath(backend, dropPathRate);
        dropPath2 = new DropPath(backend, dropPathRate);
        norm1 = new LayerNorm(params, join(prefix, "norm1"), dim, LayerNorm.MAE_EPS);
        attn = new Attention(params, join(prefix, "attn"), dim, heads);
        norm2 = new LayerNorm(params, join(prefix, "norm2"), dim, LayerNorm.MAE_EPS);
        mlp = new Mlp(params, join(prefix, "mlp"), dim, (int) (dim * mlpRatio));
    }

    public Tensor forward(Tensor x) {
        mid = ensure(mid, x.shape());
        dropPath1.addResidual(x, attn.forward(norm1.forward(x)), mid);
        out = ensure(out, x.shape());
        dropPath2.addResidual(mid, mlp.forward(norm2.forward(mid)), out);
        return out;
    }

    public Tensor backward(Tensor dy) {
        dMid = ensure(dMid, dy.shape());
        backend.add(dy, norm2.backward(mlp.backward(dropPath2.backward(dy))), dMid);
        dx = ensure(dx, dy.shape());
        backend.add(dMid, norm1.backward(attn.backward(dropPath1.backward(dMid))), dx);
        return dx;
    }

    /** Stochastic depth on the attention branch. */
    public DropPath dropPathAttn() { return dropPath1; }

    /** Stochastic depth on the MLP branch. */
    public DropPath dropPathMlp() { return dropPath2; }
}
