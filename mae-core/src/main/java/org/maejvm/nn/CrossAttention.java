package org.maejvm.nn;

import org.maejvm.ops.AttentionShape;
import org.maejvm.ops.RowView;
import org.maejvm.tensor.Tensor;

/**
 * Multi-head cross-attention as CAE's official {@code CrossAttention}: queries from one sequence, keys and values
 * from another. q, k and v are separate Linear(C, C) without bias; with {@code qkvBias} the queries get
 * {@code q_bias} and the values {@code v_bias} (keys none: a key bias adds the same score to every key of a query,
 * which softmax cancels), then proj = Linear(C, C) with bias. Scale head_dim^-0.5, no mask, no dropout.
 *
 * <p>Shapes: queries [B, Nq, C], keys and values [B, Nk, C] (they may be the same tensor), output [B, Nq, C].
 * {@link #backward} returns the query gradient; the key and value gradients are then in {@link #keyGrad()} and
 * {@link #valueGrad()} (when keys and values are one tensor, its gradient is their sum).
 */
public final class CrossAttention extends Layer {
    private final int dim, heads;
    private final Linear q, k, v, proj;
    private final Parameter qBias, vBias;
    private Tensor attnOut, lse, dq, dk, dv, dKeys, dValues;
    private AttentionShape shape;

    public CrossAttention(ParameterSet params, String prefix, int dim, int heads, boolean qkvBias) {
        super(params.backend());
        if (heads <= 0 || dim % heads != 0) {
            throw new IllegalArgumentException("cross-attention width " + dim + " is not divisible by " + heads + " heads");
        }
        this.dim = dim;
        this.heads = heads;
        // Registration order of the official module: q, k, v, q_bias, v_bias, proj.
        q = new Linear(params, join(prefix, "q"), dim, dim, false);
        k = new Linear(params, join(prefix, "k"), dim, dim, false);
        v = new Linear(params, join(prefix, "v"), dim, dim, false);
        qBias = qkvBias ? params.add(join(prefix, "q_bias"), true, dim) : null;
        vBias = qkvBias ? params.add(join(prefix, "v_bias"), true, dim) : null;
        proj = new Linear(params, join(prefix, "proj"), dim, dim, true);
    }

    public int dim() { return dim; }

    public int heads() { return heads; }

    /** Attention of {@code queries} [B, Nq, C] over {@code keys} and {@code values} [B, Nk, C]. */
    public Tensor forward(Tensor queries, Tensor keys, Tensor values) {
        requireTokens("queries", queries);
        requireTokens("keys", keys);
        requireTokens("values", values);
        int b = queries.dim(0), nq = queries.dim(1), nk = keys.dim(1);
        if (keys.dim(0) != b || values.dim(0) != b || values.dim(1) != nk) {
            throw new IllegalArgumentException("cross-attention needs keys and values [" + b + ", Nk, " + dim
                    + "] for queries " + queries + ", got keys " + keys + " and values " + values);
        }
        shape = AttentionShape.cross(b, heads, nq, nk, dim / heads);
        Tensor qy = q.forward(queries);
        if (qBias != null) backend.addBias(qy, qBias.value()); // in place: Linear's backward reads only its input
        Tensor ky = k.forward(keys);
        Tensor vy = v.forward(values);
        if (vBias != null) backend.addBias(vy, vBias.value());
        attnOut = ensure(attnOut, b, nq, dim);
        lse = ensure(lse, b, heads, nq);
        backend.attentionForward(shape, RowView.of(qy), RowView.of(ky), RowView.of(vy), RowView.of(attnOut), lse);
        return proj.forward(attnOut);
    }

    /** Accumulates the parameter gradients; returns d(queries). */
    public Tensor backward(Tensor dy) {
        if (shape == null) throw new IllegalStateException("CrossAttention.backward() needs a forward() first");
        Tensor dAttn = proj.backward(dy);
        Tensor qy = q.lastOutput(), ky = k.lastOutput(), vy = v.lastOutput();
        dq = ensure(dq, qy.shape());
        dk = ensure(dk, ky.shape());
        dv = ensure(dv, vy.shape());
        backend.attentionBackward(shape, RowView.of(qy), RowView.of(ky), RowView.of(vy), RowView.of(attnOut),
                RowView.of(dAttn), lse, RowView.of(dq), RowView.of(dk), RowView.of(dv));
        if (qBias != null) backend.biasGrad(dq, qBias.grad());
        if (vBias != null) backend.biasGrad(dv, vBias.grad());
        dKeys = k.backward(dk);
        dValues = v.backward(dv);
        return q.backward(dq);
    }

    /** d(keys) of the last backward. */
    public Tensor keyGrad() { return dKeys; }

    /** d(values) of the last backward. */
    public Tensor valueGrad() { return dValues; }

    private void requireTokens(String what, Tensor t) {
        if (t.rank() != 3 || t.dim(2) != dim) {
            throw new IllegalArgumentException("CrossAttention(" + dim + ") needs " + what + " [B, N, " + dim + "], got " + t);
        }
    }
}
