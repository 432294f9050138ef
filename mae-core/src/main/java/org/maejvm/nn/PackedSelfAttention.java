package org.maejvm.nn;

import org.maejvm.ops.AttentionShape;
import org.maejvm.ops.Backend;
import org.maejvm.ops.RowView;
import org.maejvm.tensor.DType;
import org.maejvm.tensor.Tensor;

/**
 * The part {@link Attention} and {@link QvBiasAttention} share: fused multi-head self-attention (scale head_dim^-0.5)
 * reading q, k and v in place from the packed qkv rows [B, T, 3C] (PyTorch's reshape(B, T, 3, H, D) layout), with
 * the buffers its backward needs. The layers around it own the qkv and proj Linears and any extra biases.
 */
final class PackedSelfAttention {
    private final Backend backend;
    private final int dim, heads;
    private Tensor attnOut, lse;
    private AttentionShape shape;

    PackedSelfAttention(Backend backend, int dim, int heads) {
        if (heads <= 0 || dim % heads != 0) {
            throw new IllegalArgumentException("attention width " + dim + " is not divisible by " + heads + " heads");
        }
        this.backend = backend;
        this.dim = dim;
        this.heads = heads;
    }

    /** Attention output [B, T, C] of the packed rows; valid until the next forward. */
    Tensor forward(Tensor packed) {
        int b = packed.dim(0), t = packed.dim(1);
        shape = AttentionShape.self(b, heads, t, dim / heads);
        attnOut = Layer.reuse(backend, attnOut, DType.F32, b, t, dim);
        lse = Layer.reuse(backend, lse, DType.F32, b, heads, t);
        backend.attentionForward(shape, view(packed, 0), view(packed, dim), view(packed, 2 * dim), RowView.of(attnOut), lse);
        return attnOut;
    }

    /** Writes the gradient of the packed rows [B, T, 3C] into {@code dqkv}; {@code packed} as in forward. */
    void backwardInto(Tensor packed, Tensor dAttn, Tensor dqkv) {
        backend.attentionBackward(shape, view(packed, 0), view(packed, dim), view(packed, 2 * dim), RowView.of(attnOut),
                RowView.of(dAttn), lse, view(dqkv, 0), view(dqkv, dim), view(dqkv, 2 * dim));
    }

    private RowView view(Tensor packed, int offset) {
        return new RowView(packed, offset, 3 * dim);
    }
}
