package org.maejvm.model;

import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.maejvm.nn.BatchNorm1d;
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
 * token features through CAE's AttentiveBlock ({@code x_q = norm1_q(query)}, {@code x_k = norm1_k(features)},
 * {@code x_v = norm1_v(features)}, {@code x = cross_attn(x_q, x_k, x_v)}), optionally followed by a residual MLP
 * ({@code x + mlp(norm2(x))}), then optionally {@code fc_norm} = BatchNorm1d without affine, then a linear head.
 * Only the probe trains: the features are inputs and get no gradient.
 *
 * <p>{@link #cae} is the official probe of CAE's {@code run_attentive.py} / {@code modeling_finetune.py}: no MLP,
 * {@code fc_norm} = LP_BatchNorm(affine=False, eps 1e-5), query token 0, Linear weights trunc_normal(0.02) with
 * zero biases, head weight N(0, 0.01). The public constructor keeps the residual MLP and no BatchNorm.
 *
 * <p>Names follow CAE: {@code query_token}, {@code attentive_blocks.0.*}, {@code fc_norm.*}, {@code head.*}.
 */
public final class AttentiveProbe {
    /** CAE's LP_BatchNorm eps (torch's default). */
    public static final float CAE_BN_EPS = 1e-5f;

    private final Backend backend;
    private final ParameterSet params;
    private final int dim, numClasses;
    private final Parameter queryToken;
    private final LayerNorm normQ, normK, normV, norm2;
    private final CrossAttention crossAttn;
    private final Mlp mlp;
    private final BatchNorm1d fcNorm;
    private final Linear head;
    private final List<Parameter> trainable;
    private Tensor query, patches, pooled, dPooled, dAttn, dQueryRows;
    private boolean forwarded;

    /** A standalone probe with the residual MLP ({@code mlpRatio} > 0) and no BatchNorm; trunc_normal(0.02) init. */
    public AttentiveProbe(Backend backend, int dim, int heads, double mlpRatio, int numClasses, long seed) {
        this(new ParameterSet(backend), dim, heads, mlpRatio, false, numClasses, new SplittableRandom(seed), false);
        if (!(mlpRatio > 0)) throw new IllegalArgumentException("attentive probe: mlp_ratio must be > 0, got " + mlpRatio);
    }

    /**
     * CAE's attentive probe registered into {@code params} (next to the frozen encoder it reads): no MLP, BatchNorm
     * without affine before the head, CAE's init from {@code rng}.
     */
    public static AttentiveProbe cae(ParameterSet params, int dim, int heads, int numClasses, RandomGenerator rng) {
        return new AttentiveProbe(params, dim, heads, 0, true, numClasses, rng, true);
    }

    private AttentiveProbe(ParameterSet params, int dim, int heads, double mlpRatio, boolean batchNorm, int numClasses,
                           RandomGenerator rng, boolean caeInit) {
        if (dim <= 0 || heads <= 0 || dim % heads != 0) {
            throw new IllegalArgumentException("attentive probe: dim " + dim + " must be a positive multiple of heads " + heads);
        }
        if (numClasses <= 0) throw new IllegalArgumentException("attentive probe: num_classes must be > 0, got " + numClasses);
        if (mlpRatio > 0 && dim * mlpRatio < 1) throw new IllegalArgumentException("attentive probe: mlp_ratio " + mlpRatio + " leaves no hidden unit");
        this.backend = params.backend();
        this.params = params;
        this.dim = dim;
        this.numClasses = numClasses;
        List<Parameter> before = params.all();
        queryToken = params.add("query_token", true, 1, 1, dim);
        String p = "attentive_blocks.0.";
        normQ = new LayerNorm(params, p + "norm1_q", dim, LayerNorm.MAE_EPS);
        normK = new LayerNorm(params, p + "norm1_k", dim, LayerNorm.MAE_EPS);
        normV = new LayerNorm(params, p + "norm1_v", dim, LayerNorm.MAE_EPS);
        crossAttn = new CrossAttention(params, p + "cross_attn", dim, heads, true);
        norm2 = mlpRatio > 0 ? new LayerNorm(params, p + "norm2", dim, LayerNorm.MAE_EPS) : null;
        mlp = mlpRatio > 0 ? new Mlp(params, p + "mlp", dim, (int) (dim * mlpRatio)) : null;
        fcNorm = batchNorm ? new BatchNorm1d(params, "fc_norm", dim, CAE_BN_EPS, BatchNorm1d.TORCH_MOMENTUM, false) : null;
        head = new Linear(params, "head", dim, numClasses, true);
        trainable = params.all().stream().filter(q -> !before.contains(q) && q.trainable()).toList();
        if (!caeInit) Inits.truncNormal(backend, queryToken, 0.02, rng); // CAE: torch.zeros
        for (Parameter q : trainable) {
            if (q.shape().length == 2 && q != head.weight()) Inits.truncNormal(backend, q, 0.02, rng);
        }
        if (caeInit) Inits.normal(backend, head.weight(), 0.01, rng);
        else Inits.truncNormal(backend, head.weight(), 0.01, rng);
    }

    /** Training mode (fc_norm on batch statistics) or eval mode (running statistics); no effect without fc_norm. */
    public void train(boolean on) {
        if (fcNorm != null) fcNorm.train(on);
    }

    /** The probe's trainable parameters, in registration order. */
    public List<Parameter> trainableParameters() { return trainable; }

    /** The set the probe registered into (its own for a standalone probe; the classifier's for {@link #cae}). */
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
        Tensor y = x;
        if (mlp != null) {
            pooled = ensure(pooled, b, 1, dim);
            backend.add(x, mlp.forward(norm2.forward(x)), pooled);
            y = pooled;
        }
        forwarded = true;
        Tensor f = y.view(b, dim);
        return head.forward(fcNorm == null ? f : fcNorm.forward(f));
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
        int b = dLogits.dim(0);
        dPooled = head.backward(dLogits);
        if (fcNorm != null) dPooled = fcNorm.backward(dPooled);
        Tensor dy = dPooled.view(b, 1, dim);
        if (mlp != null) {
            dAttn = ensure(dAttn, b, 1, dim);
            backend.add(dy, norm2.backward(mlp.backward(dy)), dAttn);
            dy = dAttn;
        }
        Tensor dq = crossAttn.backward(dy);
        normK.backward(crossAttn.keyGrad());   // for the norms' parameters; the features need no gradient
        normV.backward(crossAttn.valueGrad());
        dQueryRows = normQ.backward(dq);
        backend.biasGrad(dQueryRows, queryToken.grad());
    }

    private Tensor ensure(Tensor current, int... shape) {
        return Layer.reuse(backend, current, DType.F32, shape);
    }
}
