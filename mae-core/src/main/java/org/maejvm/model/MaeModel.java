package org.maejvm.model;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.maejvm.nn.Block;
import org.maejvm.nn.Layer;
import org.maejvm.nn.LayerNorm;
import org.maejvm.nn.Linear;
import org.maejvm.nn.Parameter;
import org.maejvm.nn.ParameterSet;
import org.maejvm.nn.PatchEmbed;
import org.maejvm.nn.Workspace;
import org.maejvm.ops.Backend;
import org.maejvm.ops.RowView;
import org.maejvm.tensor.DType;
import org.maejvm.tensor.Tensor;

/**
 * The official MaskedAutoencoderViT (facebookresearch/mae, models_mae.py): ViT encoder on the visible patches,
 * lightweight decoder on all tokens, MSE on the masked patches. Parameters carry the official state_dict names.
 *
 * <p>One training step is {@link #forward} (returns the loss) then {@link #backward} (accumulates every parameter
 * gradient). Inserting the cls token and the mask tokens is done with the gather op: each image's rows are laid
 * out as [cls, patch tokens] (encoder) or [cls, kept tokens, mask token] (decoder), and one index per output row
 * picks its source row, so the backward is a single scatter-add that also sums the cls and mask-token gradients.
 */
public final class MaeModel implements PretrainModel {
    private final MaeConfig config;
    private final Backend backend;
    private final ParameterSet params;

    private final Parameter clsToken, posEmbed, maskToken, decoderPosEmbed;
    private final PatchEmbed patchEmbed;
    private final List<Block> blocks = new ArrayList<>();
    private final LayerNorm norm;
    private final Linear decoderEmbed;
    private final List<Block> decoderBlocks = new ArrayList<>();
    private final LayerNorm decoderNorm;
    private final Linear decoderPred;

    // State of the last forward, read by backward and by callers (pred, mask, ids_restore).
    private MaskPlan plan;
    private boolean normPix;
    private Tensor imgs, encSource, encIndex, decSource, decIndex, pred, target, mask;
    private Tensor encTokens, decTokens, predFull;
    private Tensor dDecSource, dPredFull, dPred, clsRows, maskRows, dDecEmbed;
    private float loss = Float.NaN;

    public MaeModel(MaeConfig config, Backend backend) {
        this(config, backend, 0L);
    }

    /** Builds the model and initialises it as the official {@code initialize_weights}, from a seeded generator. */
    public MaeModel(MaeConfig config, Backend backend, long seed) {
        this.config = config.validate();
        this.backend = backend;
        this.params = new ParameterSet(backend);
        int d = config.embedDim(), dd = config.decoderEmbedDim(), l = config.numPatches();
        // Registration order follows PyTorch's state_dict: the model's own tensors, then submodules in order.
        clsToken = params.add("cls_token", true, 1, 1, d);
        posEmbed = params.add("pos_embed", false, 1, 1 + l, d);
        maskToken = params.add("mask_token", true, 1, 1, dd);
        decoderPosEmbed = params.add("decoder_pos_embed", false, 1, 1 + l, dd);
        patchEmbed = new PatchEmbed(params, "patch_embed", config.patchSize(), config.inChans(), d);
        for (int i = 0; i < config.depth(); i++) {
            blocks.add(new Block(params, "blocks." + i, d, config.numHeads(), config.mlpRatio()));
        }
        norm = new LayerNorm(params, "norm", d, LayerNorm.MAE_EPS);
        decoderEmbed = new Linear(params, "decoder_embed", d, dd, true);
        for (int i = 0; i < config.decoderDepth(); i++) {
            decoderBlocks.add(new Block(params, "decoder_blocks." + i, dd, config.decoderNumHeads(), config.mlpRatio()));
        }
        decoderNorm = new LayerNorm(params, "decoder_norm", dd, LayerNorm.MAE_EPS);
        decoderPred = new Linear(params, "decoder_pred", dd, config.patchDim(), true);
        MaeInit.initialize(this, new SplittableRandom(seed));
    }

    @Override
    public MaeConfig config() { return config; }

    @Override
    public Backend backend() { return backend; }

    @Override
    public ParameterSet parameters() { return params; }

    // ------------------------------------------------------------------ forward

    /**
     * forward_encoder + forward_decoder + forward_loss for images [B, C, H, W] and uniform noise [B, L] that decides
     * the masking (as the official code's {@code torch.rand}). Returns the loss; pred, mask and ids_restore stay
     * available until the next forward.
     */
    public float forward(Tensor imgs, float[] noise, double maskRatio) {
        return forward(imgs, MaskPlan.random(noise, checkImages(imgs), config.numPatches(), maskRatio));
    }

    /** The same with noise drawn from {@code rng}. */
    public float forward(Tensor imgs, double maskRatio, RandomGenerator rng) {
        int b = checkImages(imgs);
        float[] noise = new float[b * config.numPatches()];
        for (int i = 0; i < noise.length; i++) noise[i] = rng.nextFloat();
        return forward(imgs, noise, maskRatio);
    }

    /** Forward with an explicit mask plan (any masking strategy honouring the MaskPlan contract). */
    @Override
    public float forward(Tensor imgs, MaskPlan plan) {
        int b = checkImages(imgs);
        if (plan.batch() != b || plan.patches() != config.numPatches()) {
            throw new IllegalArgumentException("mask plan is for " + plan.batch() + " images of " + plan.patches()
                    + " patches, the batch has " + b + " images of " + config.numPatches());
        }
        params.workspace().releaseAll();   // a step starts: loans of a step that threw are void
        this.imgs = imgs;
        this.plan = plan;
        this.normPix = config.normPixLoss();
        Tensor latent = forwardEncoder(imgs, plan);
        Tensor predicted = forwardDecoder(latent, plan);
        int l = config.numPatches(), p = config.patchDim();
        target = ensure(target, b, l, p);
        backend.patchify(imgs, config.patchSize(), true, target);
        mask = ensure(mask, b, l);
        backend.upload(plan.mask(), mask);
        loss = backend.maskedMseForward(predicted, target, mask, normPix);
        return loss;
    }

    /**
     * Features for downstream use: the encoder on ALL patches, never masked (mask ratio 0, patches in their own
     * order, unlike feature extraction that silently reuses the pretraining masking). Returns the latent
     * [B, 1 + L, D] after the final norm: row 0 is the cls token. Valid until the next forward or encode.
     */
    public Tensor encode(Tensor imgs) {
        int b = checkImages(imgs);
        return forwardEncoder(imgs, MaskPlan.none(b, config.numPatches()));
    }

    /** The encoder on the kept patches: returns the latent [B, 1 + keep, D] (after the final norm). */
    private Tensor forwardEncoder(Tensor images, MaskPlan plan) {
        int b = plan.batch(), l = plan.patches(), keep = plan.keep(), d = config.embedDim();
        Tensor tokens = patchEmbed.forward(images); // [B, L, D]
        // Per image: row 0 = cls_token, rows 1..L = patch tokens; then + pos_embed on all rows (cls gets row 0).
        encSource = ensure(encSource, b, 1 + l, d);
        backend.copyRows(b, l * d, new RowView(tokens, 0, l * d), new RowView(encSource, d, (1 + l) * d));
        for (int i = 0; i < b; i++) backend.copy(clsToken.value(), 0, encSource, i * (1 + l) * d, d);
        backend.addBias(encSource, posEmbed.value());
        // Visible rows: cls then the kept patches in shuffled order.
        int[] index = new int[b * (1 + keep)];
        int[] shuffle = plan.idsShuffle();
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < keep; j++) index[i * (1 + keep) + 1 + j] = 1 + shuffle[i * l + j];
        }
        encIndex = ensureInt(encIndex, b, 1 + keep);
        backend.upload(index, encIndex);
        encTokens = ensure(encTokens, b, 1 + keep, d);
        backend.gatherRows(encSource, encIndex, encTokens);
        Tensor x = encTokens;
        for (Block blk : blocks) x = blk.forward(x);
        return norm.forward(x);
    }

    /** The decoder: returns pred [B, L, p*p*C] (cls row dropped). */
    private Tensor forwardDecoder(Tensor latent, MaskPlan plan) {
        int b = plan.batch(), l = plan.patches(), keep = plan.keep(), dd = config.decoderEmbedDim();
        Tensor y = decoderEmbed.forward(latent); // [B, 1 + keep, Dd]
        // Per image: rows [cls, kept tokens..., mask token]; unshuffling picks kept rows or the mask-token row.
        decSource = ensure(decSource, b, 2 + keep, dd);
        backend.copyRows(b, (1 + keep) * dd, new RowView(y, 0, (1 + keep) * dd), new RowView(decSource, 0, (2 + keep) * dd));
        for (int i = 0; i < b; i++) backend.copy(maskToken.value(), 0, decSource, (i * (2 + keep) + 1 + keep) * dd, dd);
        int[] index = new int[b * (1 + l)];
        int[] restore = plan.idsRestore();
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < l; j++) {
                int shuffled = restore[i * l + j];
                index[i * (1 + l) + 1 + j] = shuffled < keep ? 1 + shuffled : 1 + keep;
            }
        }
        decIndex = ensureInt(decIndex, b, 1 + l);
        backend.upload(index, decIndex);
        decTokens = ensure(decTokens, b, 1 + l, dd);
        backend.gatherRows(decSource, decIndex, decTokens);
        backend.addBias(decTokens, decoderPosEmbed.value());
        Tensor x = decTokens;
        for (Block blk : decoderBlocks) x = blk.forward(x);
        predFull = decoderPred.forward(decoderNorm.forward(x)); // [B, 1 + L, P]
        int p = config.patchDim();
        pred = ensure(pred, b, l, p);
        backend.copyRows(b, l * p, new RowView(predFull, p, (1 + l) * p), new RowView(pred, 0, l * p));
        return pred;
    }

    // ------------------------------------------------------------------ backward

    /** Accumulates d(loss)/d(parameter) of the last forward into every trainable parameter's grad. */
    public void backward() {
        backward(1f);
    }

    /**
     * Accumulates dLoss * d(loss)/d(parameter): with gradient accumulation over k micro-batches the official loop
     * back-propagates loss / k, i.e. dLoss = 1 / k.
     */
    @Override
    public void backward(float dLoss) {
        if (plan == null) throw new IllegalStateException("backward() needs a forward() first");
        int b = plan.batch(), l = plan.patches(), keep = plan.keep();
        int d = config.embedDim(), dd = config.decoderEmbedDim(), p = config.patchDim();

        dPred = ensure(dPred, b, l, p);
        backend.maskedMseBackward(pred, target, mask, normPix, dLoss, dPred);
        dPredFull = ensure(dPredFull, b, 1 + l, p);
        backend.fill(dPredFull, 0f);
        backend.copyRows(b, l * p, new RowView(dPred, 0, l * p), new RowView(dPredFull, p, (1 + l) * p));

        // Token gradients between the layers go through two workspace buffers per width, ping-pong, so the
        // backward holds two [B, T, C] gradients at a time whatever the depth.
        Workspace ws = params.workspace();
        Tensor g = ws.borrow(b, 1 + l, dd), spare = ws.borrow(b, 1 + l, dd);
        decoderPred.backwardInto(dPredFull, spare);
        decoderNorm.backwardInto(spare, g);
        for (int i = decoderBlocks.size() - 1; i >= 0; i--) {
            decoderBlocks.get(i).backwardInto(g, spare);
            Tensor t = g; g = spare; spare = t;
        }
        // Undo the unshuffle: scatter token grads back to [cls, kept..., mask token] rows.
        dDecSource = ensure(dDecSource, b, 2 + keep, dd);
        backend.fill(dDecSource, 0f);
        backend.scatterAddRows(g, decIndex, dDecSource);
        ws.release(g);
        ws.release(spare);
        maskRows = ensure(maskRows, b, dd);
        backend.copyRows(b, dd, new RowView(dDecSource, (1 + keep) * dd, (2 + keep) * dd), new RowView(maskRows, 0, dd));
        backend.biasGrad(maskRows, maskToken.grad());
        dDecEmbed = ensure(dDecEmbed, b, 1 + keep, dd);
        backend.copyRows(b, (1 + keep) * dd, new RowView(dDecSource, 0, (2 + keep) * dd), new RowView(dDecEmbed, 0, (1 + keep) * dd));

        g = ws.borrow(b, 1 + keep, d);
        spare = ws.borrow(b, 1 + keep, d);
        decoderEmbed.backwardInto(dDecEmbed, spare);
        norm.backwardInto(spare, g);
        for (int i = blocks.size() - 1; i >= 0; i--) {
            blocks.get(i).backwardInto(g, spare);
            Tensor t = g; g = spare; spare = t;
        }
        Tensor dEncSource = ws.borrow(b, 1 + l, d);
        backend.fill(dEncSource, 0f);
        backend.scatterAddRows(g, encIndex, dEncSource);
        ws.release(g);
        ws.release(spare);
        clsRows = ensure(clsRows, b, d);
        backend.copyRows(b, d, new RowView(dEncSource, 0, (1 + l) * d), new RowView(clsRows, 0, d));
        backend.biasGrad(clsRows, clsToken.grad());
        Tensor dEmbedded = ws.borrow(b, l, d);
        backend.copyRows(b, l * d, new RowView(dEncSource, d, (1 + l) * d), new RowView(dEmbedded, 0, l * d));
        ws.release(dEncSource);
        patchEmbed.backward(dEmbedded);
        ws.release(dEmbedded);
    }

    // ------------------------------------------------------------------ results of the last forward

    public float loss() { return loss; }

    /** Predicted patches [B, L, p*p*C] (normalised-pixel space when norm_pix_loss is on). */
    public Tensor pred() { return pred; }

    public MaskPlan maskPlan() { return plan; }

    // ------------------------------------------------------------------ helpers

    private int checkImages(Tensor images) {
        int s = config.imgSize();
        if (images.rank() != 4 || images.dim(1) != config.inChans() || images.dim(2) != s || images.dim(3) != s) {
            throw new IllegalArgumentException("expected images [B, " + config.inChans() + ", " + s + ", " + s + "], got " + images);
        }
        if (images.dim(0) == 0) throw new IllegalArgumentException("empty batch: at least one image is needed");
        return images.dim(0);
    }

    private Tensor ensure(Tensor current, int... shape) {
        return Layer.reuse(backend, current, DType.F32, shape);
    }

    private Tensor ensureInt(Tensor current, int... shape) {
        return Layer.reuse(backend, current, DType.I32, shape);
    }

    // package access for MaeInit
    Parameter clsToken() { return clsToken; }

    Parameter posEmbed() { return posEmbed; }

    Parameter maskToken() { return maskToken; }

    Parameter decoderPosEmbed() { return decoderPosEmbed; }

    PatchEmbed patchEmbed() { return patchEmbed; }
}
