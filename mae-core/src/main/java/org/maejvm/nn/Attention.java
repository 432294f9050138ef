package org.maejvm.nn;

import org.maejvm.ops.AttentionShape;
import org.maejvm.ops.RowView;
import org.maejvm.tensor.Tensor;

/**
 * timm's Attention as MAE uses it: qkv = Linear(C, 3C, bias), fused multi-head softmax attention with scale
 * head_dim^-0.5, then proj = Linear(C, C). Input and output [B, T, C]. q, k and v are read in place from the
 * packed qkv buffer, which is PyTorch's reshape(B, T, 3, H, D) layout.
 */
public final class Attention extends Layer {
    private final int dim, heads;
    private final Linear qkv, proj;
    private Tensor attnOut, lse, dqkv;
    private AttentionShape shape;

    public Attention(ParameterSet params, String prefix, int dim, int heads) {
        super(params.backend());
        if (heads <= 0 || dim % heads != 0) {
            throw new IllegalArgumentException("attention width " + dim + " is not divisible by " + heads + " heads");
        }
        this.dim = dim;
        this.heads = heads;
        qkv = new Linear(params, join(prefix, "qkv"), dim, 3 * dim, true);
        proj = new Linear(params, join(prefix, "proj"), dim, dim, true);
    }

    public Tensor forward(Tensor x) {
        if (x.rank() != 3 || x.dim(2) != dim) throw new IllegalArgumentException("Attention(" + dim + ") needs [B, T, " + dim + "], got " + x);
        int b = x.dim(0), t = x.dim(1);
        shape = AttentionShape.self(b, heads, t, dim / heads);
        Tensor packed = qkv.forward(x);
        attnOut = ensure(attnOut, b, t, dim);
        lse = ensure(lse, b, heads, t);
        backend.attentionForward(shape, view(packed, 0), view(packed, dim), view(packed, 2 * dim), RowView.of(attnOut), lse);
        return proj.forward(attnOut);
    }

    public Tensor backward(Tensor dy) {
        Tensor dAttn = proj.backward(dy);
        Tensor packed = qkv.lastOutput();
        dqkv = ensure(dqkv, packed.shape());
        backend.attentionBackward(shape, view(packed, 0), view(packed, dim), view(packed, 2 * dim), RowView.of(attnOut),
                RowView.of(dAttn), lse, view(dqkv, 0), view(dqkv, dim), view(dqkv, 2 * dim));
        return qkv.backward(dqkv);
    }

    private RowView view(Tensor packed, int offset) {
        return new RowView(packed, offset, 3 * dim);
    }
}
