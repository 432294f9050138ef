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
    private Tensor y, dx;

    public Attention(ParameterSet params, String prefix, int dim, int heads) {
        super(params);
        this.core = new PackedSelfAttention(backend, dim, heads);
        this.dim = dim;
        qkv = new Linear(params, join(prefix, "qkv"), dim, 3 * dim, true);
        proj = new Linear(params, join(prefix, "proj"), dim, dim, true);
    }

    public Tensor forward(Tensor x) {
        y = ensure(y, x.shape());
        forwardInto(x, y);
        return y;
    }

    /** Writes the output into {@code out} (shaped as x); keeps qkv and the attention output for backward. */
    public void forwardInto(Tensor x, Tensor out) {
        if (x.rank() != 3 || x.dim(2) != dim) throw new IllegalArgumentException("Attention(" + dim + ") needs [B, T, " + dim + "], got " + x);
        proj.forwardInto(core.forward(qkv.forward(x)), out);
    }

    public Tensor backward(Tensor dy) {
        dx = ensure(dx, dy.shape());
        backwardInto(dy, dx);
        return dx;
    }

    /** Writes the input gradient into {@code inputGrad}; the gradients in between are workspace scratch. */
    public void backwardInto(Tensor dy, Tensor inputGrad) {
        Tensor packed = qkv.lastOutput();
        Tensor dAttn = workspace.borrow(dy.shape());
        proj.backwardInto(dy, dAttn);
        Tensor dqkv = workspace.borrow(packed.shape());
        core.backwardInto(packed, dAttn, dqkv);
        workspace.release(dAttn);
        qkv.backwardInto(dqkv, inputGrad);
        workspace.release(dqkv);
    }
}
