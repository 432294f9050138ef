package org.maejvm.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.maejvm.nn.CrossAttentionBlock;
import org.maejvm.nn.Layer;
import org.maejvm.nn.LayerNorm;
import org.maejvm.nn.LayerScaleBlock;
import org.maejvm.nn.Linear;
import org.maejvm.nn.Parameter;
import org.maejvm.nn.ParameterSet;
import org.maejvm.ops.Backend;
import org.maejvm.ops.RowView;
import org.maejvm.optim.AdamW;
import org.maejvm.tensor.DType;
import org.maejvm.tensor.Tensor;

/**
 * Context Autoencoder (Chen et al. 2022, "Context Autoencoder for Self-Supervised Representation Learning"), after
 * the official {@code VisionTransformerForMaskedImageModeling} with the image-pixel target in place of DALL-E tokens:
 * <ol>
 *   <li>the encoder sees the visible patches only (plus the cls token): latents Z_v;</li>
 *   <li>the latent contextual regressor, cross-attention blocks whose queries start as the mask token (with the
 *       masked patches' positions added to queries) and whose keys/values are [Z_v, queries] (positions added to
 *       keys), predicts the masked latents Z_m, normalised by {@code pretext_neck.norm};</li>
 *   <li>a teacher, an EMA copy of the encoder without gradient, encodes the masked patches alone: the alignment
 *       loss is λ · MSE(Z_m, teacher latents); after it the teacher moves: t = m · t + (1 - m) · encoder;</li>
 *   <li>the decoder, BEiT blocks on the masked tokens only (Z_m + positions), then {@code norm2} and {@code head},
 *       predicts the masked patches' pixels (per-patch normalised with norm_pix_loss): loss_main = MSE.</li>
 * </ol>
 * loss = loss_main + loss_align. Parameter names follow the official state_dict ({@code encoder.*},
 * {@code teacher.*}, {@code pretext_neck.regressor_blocks.*}, {@code pretext_neck.decoder_blocks.*},
 * {@code mask_token}); the teacher's tensors are fixed parameters, saved with the model but never optimised.
 * Masked tokens are handled in the plan's ids_shuffle order ({@link MaskPlan#idsMasked()}), which for the
 * non-random strategies is ascending, as the official boolean indexing.
 */
public final class CaeModel implements PretrainModel {
    private final MaeConfig config;
    private final CaeConfig cae;
    private final Backend backend;
    private final ParameterSet params;

    private final Parameter maskToken;
    private final CaeEncoder encoder;
    private final CaeEncoder teacher;
    private final List<CrossAttentionBlock> regressorBlocks = new ArrayList<>();
    private final List<LayerScaleBlock> decoderBlocks = new ArrayList<>();
    private final LayerNorm neckNorm, neckNorm2;
    private final Linear head;
    private final float[] positions; // [L, D] without the cls row, as the official regressor's pos_embed[:, 1:]
    private boolean teacherUpdates = true;

    // State of the last forward.
    private MaskPlan plan;
    private boolean normPix;
    private float loss = Float.NaN, lossMain = Float.NaN, lossAlign = Float.NaN;
    private Tensor posAll, shuffleIndex, maskedIndex, posKv, posMasked, latentTarget, queries0, latentPred, decIn, pred;
    private Tensor targetFull, targetMasked, ones;
    private final List<Tensor> contexts = new ArrayList<>();
    private Tensor dPred, dAlign, dLatentPred, dUnmasked, dxq, partU, partM, dLatent;

    public CaeModel(MaeConfig config, CaeConfig cae, Backend backend) {
        this(config, cae, backend, 0L);
    }

    /** Builds the model and initialises it as the official code does, from a seeded generator. */
    public CaeModel(MaeConfig config, CaeConfig cae, Backend backend, long seed) {
        this.config = config.validate();
        this.cae = cae.validate(config);
        this.backend = backend;
        this.params = new ParameterSet(backend);
        int d = config.embedDim(), heads = cae.headsFor(config);
        double lsDec = cae.decoderLayerScaleInitValue();
        maskToken = params.add("mask_token", true, 1, 1, d);
        encoder = new CaeEncoder(params, "encoder", config, cae.layerScaleInitValue());
        CaeEncoder[] t = new CaeEncoder[1];
        params.fixed(() -> t[0] = new CaeEncoder(params, "teacher", config, cae.layerScaleInitValue()));
        teacher = t[0];
        for (int i = 0; i < cae.regressorDepth(); i++) {
            regressorBlocks.add(new CrossAttentionBlock(params, "pretext_neck.regressor_blocks." + i, d, heads,
                    config.mlpRatio(), lsDec));
        }
        for (int i = 0; i < cae.decoderDepth(); i++) {
            decoderBlocks.add(new LayerScaleBlock(params, "pretext_neck.decoder_blocks." + i, d, heads, config.mlpRatio(), lsDec));
        }
        neckNorm = new LayerNorm(params, "pretext_neck.norm", d, LayerNorm.MAE_EPS);
        neckNorm2 = new LayerNorm(params, "pretext_neck.norm2", d, LayerNorm.MAE_EPS);
        head = new Linear(params, "pretext_neck.head", d, config.patchDim(), true);
        float[] withCls = positionEmbedding(d, config.gridSize());
        positions = java.util.Arrays.copyOfRange(withCls, d, withCls.length);
        initialize(withCls, new SplittableRandom(seed));
    }

    /**
     * CAE's {@code build_2d_sincos_position_embedding}: per patch (row r, column c) [sin(r ω), cos(r ω), sin(c ω),
     * cos(c ω)] with ω_k = 10000^(-k / (D/4)), after a zero cls row. This is MAE's embedding with its two halves
     * swapped (MAE puts the column half first).
     */
    static float[] positionEmbedding(int dim, int grid) {
        float[] mae = SinCosPositionEmbedding.withClsRow(dim, grid);
        float[] out = mae.clone();
        int half = dim / 2;
        for (int row = 1; row <= grid * grid; row++) {
            System.arraycopy(mae, row * dim + half, out, row * dim, half);
            System.arraycopy(mae, row * dim, out, row * dim + half, half);
        }
        return out;
    }

    /**
     * The official init: every Linear xavier-uniform with zero bias (the top-level {@code _init_weights} overrides the
     * encoder's truncated normal), LayerNorms 1 and 0, the patch-embed kernel and the cls and mask tokens truncated
     * normal (std 0.02, cut at ±0.02 by the official wrapper), patch-embed bias 0, layer-scale gammas at their init
     * value, q/v biases 0; then the teacher is a copy of the encoder.
     */
    private void initialize(float[] posWithCls, RandomGenerator rng) {
        backend.upload(posWithCls, encoder.posEmbed.value());
        truncNormal(encoder.patchEmbed.weight(), rng);
        truncNormal(encoder.clsToken, rng);
        truncNormal(maskToken, rng);
        for (Parameter p : params.trainable()) {
            int[] s = p.shape();
            if (p.name().endsWith(".weight") && s.length == 2) {
                double bound = Math.sqrt(6.0 / (s[0] + s[1]));
                float[] v = new float[p.value().size()];
                for (int i = 0; i < v.length; i++) v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
                backend.upload(v, p.value());
            }
        }
        momentumUpdate(0.0);
    }

    private void truncNormal(Parameter p, RandomGenerator rng) {
        float[] v = new float[p.value().size()];
        for (int i = 0; i < v.length; i++) {
            double x;
            do { x = rng.nextGaussian(); } while (x < -1 || x > 1);
            v[i] = (float) (x * 0.02);
        }
        backend.upload(v, p.value());
    }

    /** The official AdamW for CAE: betas (0.9, 0.999), no decay on 1-D tensors, biases and the cls / mask tokens. */
    public static AdamW adamW(ParameterSet params, float weightDecay) {
        return new AdamW(params, 0.9f, 0.999f, 1e-8f, weightDecay, Set.of("encoder.cls_token", "mask_token"));
    }

    @Override
    public MaeConfig config() { return config; }

    public CaeConfig caeConfig() { return cae; }

    @Override
    public Backend backend() { return backend; }

    @Override
    public ParameterSet parameters() { return params; }

    /**
     * Whether forward moves the teacher after computing its target (default true, as official). Off, the teacher
     * stays put: for gradient checks, where repeated forwards must see one fixed target.
     */
    public CaeModel teacherUpdates(boolean on) { this.teacherUpdates = on; return this; }

    /** teacher = m · teacher + (1 - m) · encoder for every encoder tensor (m = 0 copies the encoder). */
    public void momentumUpdate(double m) {
        if (!(m >= 0 && m <= 1)) throw new IllegalArgumentException("momentum must be in [0, 1], got " + m);
        for (Parameter p : params.all()) {
            if (!p.name().startsWith("encoder.")) continue;
            Tensor t = params.get("teacher." + p.name().substring("encoder.".length())).value();
            if (m == 0) {
                backend.copy(p.value(), 0, t, 0, t.size());
            } else if (m < 1) {
                backend.scale(t, (float) m);
                backend.axpy((float) (1 - m), p.value(), t);
            }
        }
    }

    // ------------------------------------------------------------------ forward

    @Override
    public float forward(Tensor imgs, MaskPlan plan) {
        int b = checkImages(imgs);
        int l = config.numPatches(), d = config.embedDim(), p = config.patchDim();
        if (plan.batch() != b || plan.patches() != l) {
            throw new IllegalArgumentException("mask plan is for " + plan.batch() + " images of " + plan.patches()
                    + " patches, the batch has " + b + " images of " + l);
        }
        int n = plan.keep(), m = l - n;
        if (m < 1) throw new IllegalArgumentException("CAE needs at least one masked patch per image; the plan masks none");
        this.plan = plan;
        this.normPix = config.normPixLoss();
        int[] visible = plan.idsKeep(), masked = plan.idsMasked();

        // Positions: [B, L, D] per image in ids_shuffle order (visible first), the masked part for the queries.
        posAll = reuse(posAll, b, l, d);
        float[] expanded = new float[b * l * d];
        for (int i = 0; i < b; i++) System.arraycopy(positions, 0, expanded, i * l * d, l * d);
        backend.upload(expanded, posAll);
        shuffleIndex = reuseInt(shuffleIndex, b, l);
        backend.upload(plan.idsShuffle(), shuffleIndex);
        posKv = reuse(posKv, b, l, d);
        backend.gatherRows(posAll, shuffleIndex, posKv);
        posMasked = reuse(posMasked, b, m, d);
        backend.copyRows(b, m * d, new RowView(posKv, n * d, l * d), new RowView(posMasked, 0, m * d));

        // Encoder on the visible patches; the teacher on the masked ones (its target, then its EMA step).
        Tensor latent = encoder.forward(imgs, visible, b, n); // [B, 1 + n, D]
        Tensor teacherOut = teacher.forward(imgs, masked, b, m);
        latentTarget = reuse(latentTarget, b, m, d);
        backend.copyRows(b, m * d, new RowView(teacherOut, d, (1 + m) * d), new RowView(latentTarget, 0, m * d));
        if (teacherUpdates) momentumUpdate(cae.baseMomentum());

        // Regressor: queries start as the mask token; context = [visible latents (no cls), current queries].
        queries0 = reuse(queries0, b, m, d);
        backend.fill(queries0, 0f);
        backend.addBias(queries0, maskToken.value());
        Tensor xq = queries0;
        for (int i = 0; i < regressorBlocks.size(); i++) {
            if (contexts.size() <= i) contexts.add(null);
            Tensor ctx = reuse(contexts.get(i), b, l, d);
            contexts.set(i, ctx);
            backend.copyRows(b, n * d, new RowView(latent, d, (1 + n) * d), new RowView(ctx, 0, l * d));
            backend.copyRows(b, m * d, new RowView(xq, 0, m * d), new RowView(ctx, n * d, l * d));
            xq = regressorBlocks.get(i).forward(xq, ctx, posMasked, posKv);
        }
        latentPred = neckNorm.forward(xq);

        ones = reuse(ones, b, m);
        backend.fill(ones, 1f);
        lossAlign = (float) (cae.alignLossWeight() * backend.maskedMseForward(latentPred, latentTarget, ones, false));

        // Decoder on the masked tokens only.
        decIn = reuse(decIn, b, m, d);
        backend.add(latentPred, posMasked, decIn);
        Tensor x = decIn;
        for (LayerScaleBlock blk : decoderBlocks) x = blk.forward(x);
        pred = head.forward(neckNorm2.forward(x)); // [B, M, P]

        targetFull = reuse(targetFull, b, l, p);
        backend.patchify(imgs, config.patchSize(), true, targetFull);
        maskedIndex = reuseInt(maskedIndex, b, m);
        backend.upload(masked, maskedIndex);
        targetMasked = reuse(targetMasked, b, m, p);
        backend.gatherRows(targetFull, maskedIndex, targetMasked);
        lossMain = backend.maskedMseForward(pred, targetMasked, ones, normPix);
        loss = lossMain + lossAlign;
        return loss;
    }

    /**
     * Features for downstream use: the encoder on all patches in their own order, [B, 1 + L, D] after the final
     * norm (row 0 the cls token). Valid until the next forward or encode.
     */
    public Tensor encode(Tensor imgs) {
        int b = checkImages(imgs), l = config.numPatches();
        return encoder.forward(imgs, MaskPlan.none(b, l).idsKeep(), b, l);
    }

    // ------------------------------------------------------------------ backward

    @Override
    public void backward(float dLoss) {
        if (plan == null) throw new IllegalStateException("backward() needs a forward() first");
        int b = plan.batch(), l = plan.patches(), n = plan.keep(), m = l - n;
        int d = config.embedDim(), p = config.patchDim();

        dPred = reuse(dPred, b, m, p);
        backend.maskedMseBackward(pred, targetMasked, ones, normPix, dLoss, dPred);
        Tensor g = neckNorm2.backward(head.backward(dPred));
        for (int i = decoderBlocks.size() - 1; i >= 0; i--) g = decoderBlocks.get(i).backward(g);
        // Z_m feeds the decoder (through + positions) and the alignment loss; the teacher's target is a constant.
        dAlign = reuse(dAlign, b, m, d);
        backend.maskedMseBackward(latentPred, latentTarget, ones, false, (float) (dLoss * cae.alignLossWeight()), dAlign);
        dLatentPred = reuse(dLatentPred, b, m, d);
        backend.add(g, dAlign, dLatentPred);
        Tensor dq = neckNorm.backward(dLatentPred);

        dUnmasked = reuse(dUnmasked, b, n, d);
        backend.fill(dUnmasked, 0f);
        dxq = reuse(dxq, b, m, d);
        partU = reuse(partU, b, n, d);
        partM = reuse(partM, b, m, d);
        for (int i = regressorBlocks.size() - 1; i >= 0; i--) {
            CrossAttentionBlock blk = regressorBlocks.get(i);
            Tensor dIn = blk.backward(dq);
            Tensor dCtx = blk.contextGrad(); // [B, L, D]: visible latents, then this block's input queries
            backend.copyRows(b, n * d, new RowView(dCtx, 0, l * d), new RowView(partU, 0, n * d));
            backend.add(dUnmasked, partU, dUnmasked);
            backend.copyRows(b, m * d, new RowView(dCtx, n * d, l * d), new RowView(partM, 0, m * d));
            backend.add(dIn, partM, dxq);
            dq = dxq;
        }
        backend.biasGrad(dq, maskToken.grad()); // every query row started as the mask token

        dLatent = reuse(dLatent, b, 1 + n, d);
        backend.fill(dLatent, 0f); // the cls latent is not used by the regressor
        backend.copyRows(b, n * d, new RowView(dUnmasked, 0, n * d), new RowView(dLatent, d, (1 + n) * d));
        encoder.backward(dLatent);
    }

    // ------------------------------------------------------------------ results of the last forward

    public float loss() { return loss; }

    /** The pixel loss on the masked patches. */
    public float lossMain() { return lossMain; }

    /** λ · MSE(regressed latents, teacher latents). */
    public float lossAlign() { return lossAlign; }

    @Override
    public Map<String, Float> lossTerms() {
        Map<String, Float> out = new LinkedHashMap<>();
        out.put("loss_main", lossMain);
        out.put("loss_align", lossAlign);
        return out;
    }

    /** Predicted masked patches [B, M, p*p*C] in ids_shuffle order of the masked ids. */
    public Tensor pred() { return pred; }

    /** The regressor's latents for the masked patches [B, M, D] (after pretext_neck.norm). */
    public Tensor latentPred() { return latentPred; }

    /** The teacher's latents for the masked patches [B, M, D]. */
    public Tensor latentTarget() { return latentTarget; }

    public MaskPlan maskPlan() { return plan; }

    /** The encoder's weights without the {@code encoder.} prefix: a ViT state_dict for downstream use. */
    public Map<String, org.maejvm.tensor.HostTensor> encoderStateDict() {
        Map<String, org.maejvm.tensor.HostTensor> out = new LinkedHashMap<>();
        params.stateDict().forEach((k, v) -> {
            if (k.startsWith("encoder.")) out.put(k.substring("encoder.".length()), v);
        });
        return out;
    }

    // ------------------------------------------------------------------ helpers

    private int checkImages(Tensor images) {
        int s = config.imgSize();
        if (images.rank() != 4 || images.dim(1) != config.inChans() || images.dim(2) != s || images.dim(3) != s) {
            throw new IllegalArgumentException("expected images [B, " + config.inChans() + ", " + s + ", " + s + "], got " + images);
        }
        if (images.dim(0) == 0) throw new IllegalArgumentException("empty batch: at least one image is needed");
        return images.dim(0);
    }

    private Tensor reuse(Tensor current, int... shape) {
        return Layer.reuse(backend, current, DType.F32, shape);
    }

    private Tensor reuseInt(Tensor current, int... shape) {
        return Layer.reuse(backend, current, DType.I32, shape);
    }
}
