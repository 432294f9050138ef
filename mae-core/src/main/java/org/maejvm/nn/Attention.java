package org.maejvm.nn;

import org.maejvm.tensor.Tensor;

/**
 * timm's Attention as MAE uses it: qkv = Linear(C, 3C, bias), fused multi-head softmax attention with scale
 * head_dim^-0.5, then proj = Linear(C, C). Input and output [B, T, C]. q, k and v are read in place from the
 * packed qkv buffer, which is PyTorch's reshape(B, T, 3, H, D) layout.
 */
public final class Attention extends Layer {
    private final int dim;
    private final Linear qkv, proj;
    private final PackedSelfAttention core;

    public Attention(ParameterSet params, String prefix, int dim, int heads) {
        super(params.backend());
        this.core = new PackedSelfAttention(backend, dim, heads);
        this.dim = dim;
        qkv = new Linear(params, join(prefix, "qkv"), dim, 3 * dim, true);
        proj = new Linear(params, join(prefix, "proj"), dim, dim, true);
    }

    public Tensor forward(Tensor x) {
        if (x.rank() != 3 || x.dim(2) != dim) throw new IllegalArgumentException("Attention(" + dim + ") needs [B, T, " + dim + "], got " + x);
        return proj.forward(core.forward(qkv.forward(x)));
    }

    public Tensor backward(Tensor dy) {
        Tensor dAttn = proj.backward(dy);
        return qkv.backward(core.backward(qkv.lastOutput(), dAttn));
    }
}
