package org.maejvm.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.maejvm.nn.CrossAttentionBlock;
import org.maejvm.nn.DropPath;
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
 *       loss is λ · MSE(Z_m, teacher latents); after it the teacher moves: t = m · t + (1 - m) · encoder (in
 *       forward, unless {@link #teacherUpdates} is off and the trainer calls {@link #updateTeacher} once per
 *       optimizer step);</li>
 *   <li>the decoder, BEiT blocks on the masked tokens only (Z_m + positions), then {@code norm2} and {@code head},
 *       predicts the masked patches' pixels (per-patch normalised with norm_pix_loss): loss_main = MSE.</li>
 * </ol>
 * loss = loss_main + loss_align. Parameter names follow the official state_dict ({@code encoder.*},
 * {@code teacher.*}, {@code pretext_neck.regressor_blocks.*}, {@code pretext_neck.decoder_blocks.*},
 * {@code mask_token}); the teacher's tensors are fixed parameters, saved with the model but never optimised.
 * Masked tokens are handled in the plan's ids_shuffle order ({@link MaskPlan#idsMasked()}), which for the
 * non-random strategies is ascending, as the official boolean indexing.
 *
 * <p>When the regressor/decoder width ({@code decoder_embed_dim}) differs from the encoder's, the official
 * {@code encoder_to_decoder} Linear + {@code encoder_to_decoder_norm} map the encoder's latents and the teacher's
 * targets to it. In training mode (the default) every block's residual branches get stochastic depth
 * ({@code drop_path}, official 0.1 for base, linear in the block index): encoder, teacher (the official teacher
 * runs in training mode too, under no_grad), regressor and decoder; masks come from per-image seeds
 * ({@link #dropPathSeeds}, as the trainer gives them), else {@link #reseed}'s generator, or are given explicitly
 * ({@link #forward(Tensor, MaskPlan, Map)}).
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
    private final CaeProjection projection; // null when the regressor/decoder width is the encoder's
    private final float[] positions; // [L, D'] without the cls row, as the official regressor's pos_embed[:, 1:]
    private final Map<String, DropPath> dropPaths = new LinkedHashMap<>(); // the blocks' with a rate > 0
    private boolean teacherUpdates = true, training = true;
    private RandomGenerator dropPathRng;
    private long[] imageSeeds; // per-image drop-path seeds for the next forward, or null: dropPathRng for the batch

    // State of the last forward.
    private MaskPlan plan;
    private boolean normPix;
    private float loss = Float.NaN, lossMain = Float.NaN, lossAlign = Float.NaN;
    private Tensor posAll, shuffleIndex, maskedIndex, posKv, posMasked, latentTarget, queries0, latentPred, decIn, pred;
    private Tensor targetFull, targetMasked, ones, teacherRows, visibleRows;
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
        int d = config.embedDim(), dd = cae.widthFor(config), heads = cae.headsFor(config);
        double lsDec = cae.decoderLayerScaleInitValue();
        maskToken = params.add("mask_token", true, 1, 1, dd);
        encoder = new CaeEncoder(params, "encoder", config, cae.layerScaleInitValue(), cae);
        CaeEncoder[] t = new CaeEncoder[1];
        params.fixed(() -> t[0] = new CaeEncoder(params, "teacher", config, cae.layerScaleInitValue(), cae));
        teacher = t[0];
        for (int i = 0; i < cae.regressorDepth(); i++) {
            regressorBlocks.add(new CrossAttentionBlock(params, "pretext_neck.regressor_blocks." + i, dd, heads,
                    config.mlpRatio(), lsDec, cae.dropPathRate(i, cae.regressorDepth())));
        }
        for (int i = 0; i < cae.decoderDepth(); i++) {
            decoderBlocks.add(new LayerScaleBlock(params, "pretext_neck.decoder_blocks." + i, dd, heads, config.mlpRatio(),
                    lsDec, cae.dropPathRate(i, cae.decoderDepth())));
        }
        neckNorm = new LayerNorm(params, "pretext_neck.norm", dd, LayerNorm.MAE_EPS);
        neckNorm2 = new LayerNorm(params, "pretext_neck.norm2", dd, LayerNorm.MAE_EPS);
        head = new Linear(params, "pretext_neck.head", dd, config.patchDim(), true);
        projection = dd != d ? new CaeProjection(params, d, dd) : null;
        collectDropPaths();
        float[] encoderPos = positionEmbedding(d, config.gridSize());
        float[] neckPos = dd == d ? encoderPos : positionEmbedding(dd, config.gridSize());
        positions = java.util.Arrays.copyOfRange(neckPos, dd, neckPos.length);
        dropPathRng = new SplittableRandom(seed ^ 0x64726F7070617468L); // "droppath"
        initialize(encoderPos, new SplittableRandom(seed));
    }

    /** Names every drop path with a rate > 0, in a fixed order: encoder, teacher, regressor, decoder blocks. */
    private void collectDropPaths() {
        for (var e : List.of(java.util.Map.entry("encoder", encoder), java.util.Map.entry("teacher", teacher))) {
            for (int i = 0; i < e.getValue().blocks.size(); i++) {
                LayerScaleBlock blk = e.getValue().blocks.get(i);
                addDropPaths(e.getKey() + ".blocks." + i, blk.dropPathAttn(), blk.dropPathMlp());
            }
        }
        for (int i = 0; i < regressorBlocks.size(); i++) {
            CrossAttentionBlock blk = regressorBlocks.get(i);
            addDropPaths("pretext_neck.regressor_blocks." + i, blk.dropPathAttn(), blk.dropPathMlp());
        }
        for (int i = 0; i < decoderBlocks.size(); i++) {
            LayerScaleBlock blk = decoderBlocks.get(i);
            addDropPaths("pretext_neck.decoder_blocks." + i, blk.dropPathAttn(), blk.dropPathMlp());
        }
    }

    private void addDropPaths(String block, DropPath attn, DropPath mlp) {
        if (attn.rate() > 0) dropPaths.put(block + ".drop_path.attn", attn);
        if (mlp.rate() > 0) dropPaths.put(block + ".drop_path.mlp", mlp);
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
     * Whether forward moves the teacher after computing its target (default true, as official with one forward per
     * optimizer step). Off, the teacher stays put until {@link #updateTeacher()}: the trainer moves it once per
     * optimizer step when gradients accumulate over several forwards, and gradient checks keep one fixed target.
     */
    public CaeModel teacherUpdates(boolean on) { this.teacherUpdates = on; return this; }

    /** The teacher's EMA step with the config's momentum: teacher = m · teacher + (1 - m) · encoder. */
    public void updateTeacher() { momentumUpdate(cae.baseMomentum()); }

    /** Training mode (the default) samples drop-path masks in forward; eval mode turns stochastic depth off. */
    public CaeModel train(boolean on) { this.training = on; return this; }

    public boolean training() { return training; }

    /** Reseeds the generator of the drop-path masks of the whole batch (used when no per-image seeds are given). */
    public void reseed(long seed) { dropPathRng = new SplittableRandom(seed); }

    /**
     * Per-image seeds for the drop-path masks of the next forward: image i's keep values, for every drop path in
     * {@link #dropPaths()} order, come from its own generator. The trainer derives them from the images' masking
     * noise rows, so an image drops the same branches wherever it lands (another rank, another step of an
     * accumulation cycle, a resumed run). Used once, then the batch generator of {@link #reseed} again.
     */
    public void dropPathSeeds(long[] perImage) { imageSeeds = perImage.clone(); }

    /**
     * The drop paths with a rate > 0 by name ({@code encoder.blocks.3.drop_path.attn}, {@code
     * pretext_neck.decoder_blocks.1.drop_path.mlp}, ...): the keys that {@link #forward(Tensor, MaskPlan, Map)} takes.
     */
    public Map<String, DropPath> dropPaths() { return java.util.Collections.unmodifiableMap(dropPaths); }

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
        return forward(imgs, plan, null);
    }

    /**
     * Forward with explicit drop-path keep masks (for tests and replays): for every name of {@link #dropPaths()} a
     * 0/1 value per image (1 keeps the branch, scaled by 1 / (1 - rate)); null samples them in training mode.
     */
    public float forward(Tensor imgs, MaskPlan plan, Map<String, float[]> keep) {
        int b = checkImages(imgs);
        params.workspace().releaseAll();   // a step starts: loans of a step that threw are void
        setDropPaths(b, keep);
        int l = config.numPatches(), d = config.embedDim(), dd = cae.widthFor(config), p = config.patchDim();
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
        posAll = reuse(posAll, b, l, dd);
        float[] expanded = new float[b * l * dd];
        for (int i = 0; i < b; i++) System.arraycopy(positions, 0, expanded, i * l * dd, l * dd);
        backend.upload(expanded, posAll);
        shuffleIndex = reuseInt(shuffleIndex, b, l);
        backend.upload(plan.idsShuffle(), shuffleIndex);
        posKv = reuse(posKv, b, l, dd);
        backend.gatherRows(posAll, shuffleIndex, posKv);
        posMasked = reuse(posMasked, b, m, dd);
        backend.copyRows(b, m * dd, new RowView(posKv, n * dd, l * dd), new RowView(posMasked, 0, m * dd));

        // The teacher on the masked patches: its target (through the width projection, without gradient), then
        // its EMA step. It runs before the encoder so that the projection keeps the encoder's input for backward.
        Tensor teacherOut = teacher.forward(imgs, masked, b, m); // [B, 1 + m, D]
        latentTarget = reuse(latentTarget, b, m, dd);
        if (projection == null) {
            backend.copyRows(b, m * d, new RowView(teacherOut, d, (1 + m) * d), new RowView(latentTarget, 0, m * d));
        } else {
            teacherRows = reuse(teacherRows, b, m, d);
            backend.copyRows(b, m * d, new RowView(teacherOut, d, (1 + m) * d), new RowView(teacherRows, 0, m * d));
            projection.forwardNoGrad(teacherRows, latentTarget);
        }
        if (teacherUpdates) momentumUpdate(cae.baseMomentum());

        // The encoder on the visible patches; the regressor reads its patch latents (not the cls token).
        Tensor latent = encoder.forward(imgs, visible, b, n); // [B, 1 + n, D]
        RowView context;
        if (projection == null) {
            context = new RowView(latent, d, (1 + n) * d);
        } else {
            visibleRows = reuse(visibleRows, b, n, d);
            backend.copyRows(b, n * d, new RowView(latent, d, (1 + n) * d), new RowView(visibleRows, 0, n * d));
            context = new RowView(projection.forward(visibleRows), 0, n * dd); // [B, n, D']
        }

        // Regressor: queries start as the mask token; context = [visible latents (no cls), current queries].
        queries0 = reuse(queries0, b, m, dd);
        backend.fill(queries0, 0f);
        backend.addBias(queries0, maskToken.value());
        Tensor xq = queries0;
        for (int i = 0; i < regressorBlocks.size(); i++) {
            if (contexts.size() <= i) contexts.add(null);
            Tensor ctx = reuse(contexts.get(i), b, l, dd);
            contexts.set(i, ctx);
            backend.copyRows(b, n * dd, context, new RowView(ctx, 0, l * dd));
            backend.copyRows(b, m * dd, new RowView(xq, 0, m * dd), new RowView(ctx, n * dd, l * dd));
            xq = regressorBlocks.get(i).forward(xq, ctx, posMasked, posKv);
        }
        latentPred = neckNorm.forward(xq);

        ones = reuse(ones, b, m);
        backend.fill(ones, 1f);
        lossAlign = (float) (cae.alignLossWeight() * backend.maskedMseForward(latentPred, latentTarget, ones, false));

        // Decoder on the masked tokens only.
        decIn = reuse(decIn, b, m, dd);
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
        for (LayerScaleBlock blk : encoder.blocks) {
            blk.dropPathAttn().disable();
            blk.dropPathMlp().disable();
        }
        return encoder.forward(imgs, MaskPlan.none(b, l).idsKeep(), b, l);
    }

    /** Samples (training), sets (explicit masks) or turns off (eval) every drop path for a batch of {@code b}. */
    private void setDropPaths(int b, Map<String, float[]> keep) {
        if (keep != null) {
            List<String> unknown = new ArrayList<>(keep.keySet());
            unknown.removeAll(dropPaths.keySet());
            List<String> missing = new ArrayList<>(dropPaths.keySet());
            missing.removeAll(keep.keySet());
            if (!unknown.isEmpty() || !missing.isEmpty()) {
                throw new IllegalArgumentException("drop path masks: " + (missing.isEmpty() ? "" : "missing " + missing + " ")
                        + (unknown.isEmpty() ? "" : "unknown " + unknown + " ") + "(the drop paths with a rate > 0 are "
                        + dropPaths.keySet() + ")");
            }
        }
        long[] seeds = imageSeeds;
        imageSeeds = null;
        if (seeds != null && seeds.length != b) {
            throw new IllegalArgumentException("drop path seeds for " + seeds.length + " images, the batch has " + b);
        }
        SplittableRandom[] perImage = null;
        if (seeds != null && keep == null && training) {
            perImage = new SplittableRandom[b];
            for (int i = 0; i < b; i++) perImage[i] = new SplittableRandom(seeds[i]);
        }
        for (Map.Entry<String, DropPath> e : dropPaths.entrySet()) {
            DropPath dp = e.getValue();
            if (perImage != null) {
                // timm's floor(keep_prob + U[0, 1)), one draw per image from its own generator
                float[] k = new float[b];
                for (int i = 0; i < b; i++) k[i] = (float) Math.floor(1 - dp.rate() + perImage[i].nextDouble());
                dp.setKeepMask(k);
            } else if (keep != null) {
                float[] k = keep.get(e.getKey());
                if (k.length != b) {
                    throw new IllegalArgumentException("drop path mask " + e.getKey() + " has " + k.length
                            + " entries for a batch of " + b);
                }
                dp.setKeepMask(k);
            } else if (training) {
                dp.sample(b, dropPathRng);
            } else {
                dp.disable();
            }
        }
    }

    // ------------------------------------------------------------------ backward

    @Override
    public void backward(float dLoss) {
        if (plan == null) throw new IllegalStateException("backward() needs a forward() first");
        int b = plan.batch(), l = plan.patches(), n = plan.keep(), m = l - n;
        int d = config.embedDim(), dd = cae.widthFor(config), p = config.patchDim();

        dPred = reuse(dPred, b, m, p);
        backend.maskedMseBackward(pred, targetMasked, ones, normPix, dLoss, dPred);
        Tensor g = neckNorm2.backward(head.backward(dPred));
        for (int i = decoderBlocks.size() - 1; i >= 0; i--) g = decoderBlocks.get(i).backward(g);
        // Z_m feeds the decoder (through + positions) and the alignment loss; the teacher's target is a constant.
        dAlign = reuse(dAlign, b, m, dd);
        backend.maskedMseBackward(latentPred, latentTarget, ones, false, (float) (dLoss * cae.alignLossWeight()), dAlign);
        dLatentPred = reuse(dLatentPred, b, m, dd);
        backend.add(g, dAlign, dLatentPred);
        Tensor dq = neckNorm.backward(dLatentPred);

        dUnmasked = reuse(dUnmasked, b, n, dd);
        backend.fill(dUnmasked, 0f);
        dxq = reuse(dxq, b, m, dd);
        partU = reuse(partU, b, n, dd);
        partM = reuse(partM, b, m, dd);
        for (int i = regressorBlocks.size() - 1; i >= 0; i--) {
            CrossAttentionBlock blk = regressorBlocks.get(i);
            Tensor dIn = blk.backward(dq);
            Tensor dCtx = blk.contextGrad(); // [B, L, D']: visible latents, then this block's input queries
            backend.copyRows(b, n * dd, new RowView(dCtx, 0, l * dd), new RowView(partU, 0, n * dd));
            backend.add(dUnmasked, partU, dUnmasked);
            backend.copyRows(b, m * dd, new RowView(dCtx, n * dd, l * dd), new RowView(partM, 0, m * dd));
            backend.add(dIn, partM, dxq);
            dq = dxq;
        }
        backend.biasGrad(dq, maskToken.grad()); // every query row started as the mask token

        Tensor dVisible = projection == null ? dUnmasked : projection.backward(dUnmasked); // [B, n, D]
        dLatent = reuse(dLatent, b, 1 + n, d);
        backend.fill(dLatent, 0f); // the cls latent is not used by the regressor
        backend.copyRows(b, n * d, new RowView(dVisible, 0, n * d), new RowView(dLatent, d, (1 + n) * d));
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
