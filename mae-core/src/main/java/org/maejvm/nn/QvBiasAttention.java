package org.maejvm.nn;

import org.maejvm.tensor.Tensor;

/**
 * BEiT's and CAE's self-attention: {@code qkv} = Linear(C, 3C) without bias, plus learnable {@code q_bias} and
 * {@code v_bias} (the key bias is fixed at zero: it would add one constant to every score of a query, which the
 * softmax cancels), fused multi-head attention with scale head_dim^-0.5, then proj = Linear(C, C) with bias.
 * Input and output [B, T, C].
 */
public final class QvBiasAttention extends Layer {
    private final int dim;
    private final Parameter qBias, vBias;
    private final Linear qkv, proj;
    private final Tensor packedBias, dPackedBias, dPart;
    private final PackedSelfAttention core;
    private Tensor y, dx;

    public QvBiasAttention(ParameterSet params, String prefix, int dim, int heads) {
        super(params);
        this.core = new PackedSelfAttention(backend, dim, heads);   // checks dim and heads before anything registers
        this.dim = dim;
        // Official registration order: q_bias, v_bias (the module's own), then qkv, proj.
        qBias = params.add(join(prefix, "q_bias"), true, dim);
        vBias = params.add(join(prefix, "v_bias"), true, dim);
        qkv = new Linear(params, join(prefix, "qkv"), dim, 3 * dim, false);
        proj = new Linear(params, join(prefix, "proj"), dim, dim, true);
        packedBias = backend.zeros(3 * dim);
        dPackedBias = backend.zeros(3 * dim);
        dPart = backend.zeros(dim);
    }

    public Tensor forward(Tensor x) {
        y = ensure(y, x.shape());
        forwardInto(x, y);
        return y;
    }

    /** Writes the output into {@code out} (shaped as x); keeps qkv and the attention output for backward. */
    public void forwardInto(Tensor x, Tensor out) {
        if (x.rank() != 3 || x.dim(2) != dim) {
            throw new IllegalArgumentException("attention(" + dim + ") needs [B, T, " + dim + "], got " + x);
        }
        Tensor packed = qkv.forward(x);
        // The official cat((q_bias, zeros, v_bias)) added to the packed [q | k | v] rows.
        backend.copy(qBias.value(), 0, packedBias, 0, dim);
        backend.copy(vBias.value(), 0, packedBias, 2 * dim, dim);
        backend.addBias(packed, packedBias);
        proj.forwardInto(core.forward(packed), out);
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
        backend.fill(dPackedBias, 0f);
        backend.biasGrad(dqkv, dPackedBias);
        accumulatePart(0, qBias);
        accumulatePart(2 * dim, vBias);
        qkv.backwardInto(dqkv, inputGrad);
        workspace.release(dqkv);
    }

    private void accumulatePart(int offset, Parameter bias) {
        backend.copy(dPackedBias, offset, dPart, 0, dim);
        backend.axpy(1f, dPart, bias.grad());
    }
}
