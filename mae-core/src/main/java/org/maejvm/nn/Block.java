package org.maejvm.nn;

import org.maejvm.tensor.Tensor;

/** timm's pre-norm transformer Block: x = x + attn(norm1(x)); x = x + mlp(norm2(x)). Input and output [B, T, C]. */
public final class Block extends Layer {
    private final LayerNorm norm1, norm2;
    private final Attention attn;
    private final Mlp mlp;
    private Tensor mid, out, dMid, dx;

    public Block(ParameterSet params, String prefix, int dim, int heads, double mlpRatio) {
        super(params.backend());
        norm1 = new LayerNorm(params, join(prefix, "norm1"), dim, LayerNorm.MAE_EPS);
        attn = new Attention(params, join(prefix, "attn"), dim, heads);
        norm2 = new LayerNorm(params, join(prefix, "norm2"), dim, LayerNorm.MAE_EPS);
        mlp = new Mlp(params, join(prefix, "mlp"), dim, (int) (dim * mlpRatio));
    }

    public Tensor forward(Tensor x) {
        mid = ensure(mid, x.shape());
        backend.add(x, attn.forward(norm1.forward(x)), mid);
        out = ensure(out, x.shape());
        backend.add(mid, mlp.forward(norm2.forward(mid)), out);
        return out;
    }

    public Tensor backward(Tensor dy) {
        dMid = ensure(dMid, dy.shape());
        backend.add(dy, norm2.backward(mlp.backward(dy)), dMid);
        dx = ensure(dx, dy.shape());
        backend.add(dMid, norm1.backward(attn.backward(dMid)), dx);
        return dx;
    }
}
