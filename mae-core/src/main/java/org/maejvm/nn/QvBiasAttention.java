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

    public QvBiasAttention(ParameterSet params, String prefix, int dim, int heads) {
        super(params.backend());
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
        if (x.rank() != 3 || x.dim(2) != dim) {
            throw new IllegalArgumentException("attention(" + dim + ") needs [B, T, " + dim + "], got " + x);
        }
        Tensor packed = qkv.forward(x);
        // The official cat((q_bias, zeros, v_bias)) added to the packed [q | k | v] rows.
        backend.copy(qBias.value(), 0, packedBias, 0, dim);
        backend.copy(vBias.value(), 0, packedBias, 2 * dim, dim);
        backend.addBias(packed, packedBias);
        return proj.forward(core.forward(packed));
    }

    public Tensor backward(Tensor dy) {
        Tensor dAttn = proj.backward(dy);
        Tensor dqkv = core.backward(qkv.lastOutput(), dAttn);
        backend.fill(dPackedBias, 0f);
        backend.biasGrad(dqkv, dPackedBias);
        accumulatePart(0, qBias);
        accumulatePart(2 * dim, vBias);
        return qkv.backward(dqkv);
    }

    private void accumulatePart(int offset, Parameter bias) {
        backend.copy(dPackedBias, offset, dPart, 0, dim);
        backend.axpy(1f, dPart, bias.grad());
    }
}
