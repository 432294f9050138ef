package org.maejvm.nn;

import org.maejvm.tensor.Tensor;

/**
 * CAE's regressor block ({@code RegressorBlock}): queries attend to a context sequence, with position embeddings
 * added to queries and keys but not to values, then a normalised MLP branch:
 * <pre>
 *   x   = x_q + drop_path(gamma_1_cross * cross_attn(norm1_q(x_q + pos_q), k = norm1_k(x_kv + pos_k), v = norm1_v(x_kv)))
 *   x   = norm2_cross(x)
 *   out = x + drop_path(gamma_2_cross * mlp_cross(x))
 * </pre>
 * The two drop paths draw their own masks (one {@link DropPath} per branch), identities until a mask is set.
 * With {@code initValue} 0 the gammas are fixed ones (as the official code, which keeps them in the state_dict).
 * Shapes: x_q, pos_q [B, Nq, C]; x_kv, pos_k [B, Nk, C]; out [B, Nq, C]. pos_q and pos_k get no gradient.
 * {@link #backward} returns d(x_q); d(x_kv) is then {@link #contextGrad()}.
 */
public final class CrossAttentionBlock extends Layer {
    private final LayerNorm norm1Q, norm1K, norm1V, norm2;
    private final CrossAttention crossAttn;
    private final Mlp mlp;
    private final LayerScale gamma1, gamma2;
    private final DropPath dropPath1, dropPath2;
    private Tensor qIn, kIn, mid, out, dMid, dq, dkv;

    public CrossAttentionBlock(ParameterSet params, String prefix, int dim, int heads, double mlpRatio, double initValue) {
        this(params, prefix, dim, heads, mlpRatio, initValue, 0);
    }

    /** With stochastic depth of rate {@code dropPathRate} on both residual branches. */
    public CrossAttentionBlock(ParameterSet params, String prefix, int dim, int heads, double mlpRatio, double initValue,
                               double dropPathRate) {
        super(params.backend());
        dropPath1 = new DropPath(backend, dropPathRate);
        dropPath2 = new DropPath(backend, dropPathRate);
        if (!(initValue >= 0)) throw new IllegalArgumentException("layer scale init value must be >= 0, got " + initValue);
        norm1Q = new LayerNorm(params, join(prefix, "norm1_q"), dim, LayerNorm.MAE_EPS);
        norm1K = new LayerNorm(params, join(prefix, "norm1_k"), dim, LayerNorm.MAE_EPS);
        norm1V = new LayerNorm(params, join(prefix, "norm1_v"), dim, LayerNorm.MAE_EPS);
        norm2 = new LayerNorm(params, join(prefix, "norm2_cross"), dim, LayerNorm.MAE_EPS);
        crossAttn = new CrossAttention(params, join(prefix, "cross_attn"), dim, heads, true);
        mlp = new Mlp(params, join(prefix, "mlp_cross"), dim, (int) (dim * mlpRatio));
        boolean learn = initValue > 0;
        gamma1 = new LayerScale(params, join(prefix, "gamma_1_cross"), dim, learn ? initValue : 1.0, learn);
        gamma2 = new LayerScale(params, join(prefix, "gamma_2_cross"), dim, learn ? initValue : 1.0, learn);
    }

    public Tensor forward(Tensor xq, Tensor xkv, Tensor posQ, Tensor posK) {
        qIn = ensure(qIn, xq.shape());
        backend.add(xq, posQ, qIn);
        kIn = ensure(kIn, xkv.shape());
        backend.add(xkv, posK, kIn);
        // Each LayerNorm keeps its own output buffer, so the three normalised inputs do not alias.
        Tensor attended = crossAttn.forward(norm1Q.forward(qIn), norm1K.forward(kIn), norm1V.forward(xkv));
        mid = ensure(mid, xq.shape());
        dropPath1.addResidual(xq, gamma1.forward(attended), mid);
        Tensor normed = norm2.forward(mid);
        out = ensure(out, xq.shape());
        dropPath2.addResidual(normed, gamma2.forward(mlp.forward(normed)), out);
        return out;
    }

    public Tensor backward(Tensor dy) {
        // out = n + g2 * mlp(n), n = norm2(mid)
        dMid = ensure(dMid, dy.shape());
        backend.add(dy, mlp.backward(gamma2.backward(dropPath2.backward(dy))), dMid);
        Tensor dMidIn = norm2.backward(dMid);
        // mid = x_q + g1 * attn(...)
        Tensor dAttended = gamma1.backward(dropPath1.backward(dMidIn));
        Tensor dqNorm = crossAttn.backward(dAttended);
        Tensor dkNorm = crossAttn.keyGrad(), dvNorm = crossAttn.valueGrad();
        dq = ensure(dq, dy.shape());
        backend.add(dMidIn, norm1Q.backward(dqNorm), dq);
        Tensor dk = norm1K.backward(dkNorm);
        dkv = ensure(dkv, dk.shape());
        backend.add(dk, norm1V.backward(dvNorm), dkv);
        return dq;
    }

    /** Stochastic depth on the cross-attention branch. */
    public DropPath dropPathAttn() { return dropPath1; }

    /** Stochastic depth on the MLP branch. */
    public DropPath dropPathMlp() { return dropPath2; }

    /** d(x_kv) of the last backward. */
    public Tensor contextGrad() { return dkv; }

    /** The cross-attention inside (for callers that inspect it). */
    public CrossAttention crossAttention() { return crossAttn; }
}
