package org.maejvm.model;

import java.util.SplittableRandom;
import org.maejvm.nn.CrossAttention;
import org.maejvm.nn.Layer;
import org.maejvm.nn.LayerNorm;
import org.maejvm.nn.Linear;
import org.maejvm.nn.Mlp;
import org.maejvm.nn.Parameter;
import org.maejvm.nn.ParameterSet;
import org.maejvm.ops.Backend;
import org.maejvm.ops.RowView;
import org.maejvm.tensor.DType;
import org.maejvm.tensor.Tensor;

/**
 * Attentive probing as the CAE paper evaluates frozen encoders: a learnable query token cross-attends to the frozen
 * patch features through CAE's AttentiveBlock ({@code x_q = norm1_q(query)}, {@code x_k = norm1_k(features)},
 * {@code x_v = norm1_v(features)}, {@code x = cross_attn(x_q, x_k, x_v)}), followed by a residual MLP
 * ({@code x + mlp(norm2(x))}), then a linear head without BatchNorm. Only the probe trains: the features are inputs
 * and get no gradient.
 *
 * <p>Names follow CAE: {@code query_token}, {@code attentive_blocks.0.*}, {@code head.*}. Init: query token and
 * Linear weights trunc_normal(std 0.02) with zero biases, LayerNorms 1/0, the head weight trunc_normal(std 0.01).
 */
public final class AttentiveProbe {
    private final Backend backend;
    private final ParameterSet params;
    private final int dim, numClasses;
    private final Parameter queryToken;
    private final LayerNorm normQ, normK, normV, norm2;
    private final CrossAttention crossAttn;
    private final Mlp mlp;
    private final Linear head;
    private Tensor query, patches, pooled, dPooled, dAttn, dQueryRows;
    private boolean forwarded;

    public AttentiveProbe(Backend backend, int dim, int heads, double mlpRatio, int numClasses, long seed) {
        if (dim <= 0 || heads <= 0 || dim % heads != 0) {
            throw new IllegalArgumentException("attentive probe: dim " + dim + " must be a positive multiple of heads " + heads);
        }
        if (numClasses <= 0) throw new IllegalArgumentException("attentive probe: num_classes must be > 0, got " + numClasses);
        if (!(mlpRatio > 0) || dim * mlpRatio < 1) throw new IllegalArgumentException("attentive probe: mlp_ratio must be > 0, got " + mlpRatio);
        this.backend = backend;
        this.params = new ParameterSet(backend);
        this.dim = dim;
        this.numClasses = numClasses;
        queryToken = params.add("query_token", true, 1, 1, dim);
        String p = "attentive_blocks.0.";
        normQ = new LayerNorm(params, p + "norm1_q", dim, LayerNorm.MAE_EPS);
        normK = new LayerNorm(params, p + "norm1_k", dim, LayerNorm.MAE_EPS);
        normV = new LayerNorm(params, p + "norm1_v", dim, LayerNorm.MAE_EPS);
        crossAttn = new CrossAttention(params, p + "cross_attn", dim, heads, true);
        norm2 = new LayerNorm(params, p + "norm2", dim, LayerNorm.MAE_EPS);
        mlp = new Mlp(params, p + "mlp", dim, (int) (dim * mlpRatio));
        head = new Linear(params, "head", dim, numClasses, true);
        SplittableRandom rng = new SplittableRandom(seed);
        Inits.truncNormal(backend, queryToken, 0.02, rng);
        for (Parameter q : params.all()) {
            if (q.shape().length == 2 && q != head.weight()) Inits.truncNormal(backend, q, 0.02, rng);
        }
        Inits.truncNormal(backend, head.weight(), 0.01, rng);
    }

    /** The probe's parameters (all trainable). */
    public ParameterSet parameters() { return params; }

    public int dim() { return dim; }

    public int numClasses() { return numClasses; }

    /** Logits [B, classes] from token features [B, N, D] (any N; see {@link #forwardPatches} for an encoder latent). */
    public Tensor forward(Tensor tokens) {
        if (tokens.rank() != 3 || tokens.dim(2) != dim || tokens.dim(0) == 0 || tokens.dim(1) == 0) {
            throw new IllegalArgumentException("attentive probe expects features [B, N, " + dim + "], got " + tokens);
        }
        int b = tokens.dim(0);
        query = ensure(query, b, 1, dim);
        for (int i = 0; i < b; i++) backend.copy(queryToken.value(), 0, query, i * dim, dim);
        Tensor x = crossAttn.forward(normQ.forward(query), normK.forward(tokens), normV.forward(tokens));
        pooled = ensure(pooled, b, 1, dim);
        backend.add(x, mlp.forward(norm2.forward(x)), pooled);
        forwarded = true;
        return head.forward(pooled.view(b, dim));
    }

    /** The same on an encoder latent [B, 1 + L, D] (e.g. {@code MaeModel.encode}): the cls row is left out. */
    public Tensor forwardPatches(Tensor latent) {
        if (latent.rank() != 3 || latent.dim(1) < 2 || latent.dim(2) != dim) {
            throw new IllegalArgumentException("expected an encoder latent [B, 1 + L, " + dim + "], got " + latent);
        }
        int b = latent.dim(0), l = latent.dim(1) - 1;
        patches = ensure(patches, b, l, dim);
        backend.copyRows(b, l * dim, new RowView(latent, dim, (1 + l) * dim), new RowView(patches, 0, l * dim));
        return forward(patches);
    }

    /** Accumulates every probe gradient from d(loss)/d(logits) [B, classes]. */
    public void backward(Tensor dLogits) {
        if (!forwarded) throw new IllegalStateException("backward() needs a forward() first");
        int b = pooled.dim(0);
        dPooled = head.backward(dLogits);
        Tensor dy = dPooled.view(b, 1, dim);
        dAttn = ensure(dAttn, b, 1, dim);
        backend.add(dy, norm2.backward(mlp.backward(dy)), dAttn);
        Tensor dq = crossAttn.backward(dAttn);
        normK.backward(crossAttn.keyGrad());   // for the norms' parameters; the features need no gradient
        normV.backward(crossAttn.valueGrad());
        dQueryRows = normQ.backward(dq);
        backend.biasGrad(dQueryRows, queryToken.grad());
    }

    private Tensor ensure(Tensor current, int... shape) {
        return Layer.reuse(backend, current, DType.F32, shape);
    }
}
