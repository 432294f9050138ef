package org.maejvm.model;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.maejvm.data.Batch;
import org.maejvm.nn.BatchNorm1d;
import org.maejvm.nn.Block;
import org.maejvm.nn.DropPath;
import org.maejvm.nn.Layer;
import org.maejvm.nn.LayerNorm;
import org.maejvm.nn.Linear;
import org.maejvm.nn.Parameter;
import org.maejvm.nn.ParameterSet;
import org.maejvm.nn.PatchEmbed;
import org.maejvm.ops.Backend;
import org.maejvm.ops.RowView;
import org.maejvm.tensor.DType;
import org.maejvm.tensor.Tensor;

/**
 * The official models_vit.py VisionTransformer for fine-tuning and linear probing: patch embed, cls token, position
 * embedding (sin-cos at construction, trainable as in timm; normally overwritten by the pretrained one), blocks with
 * stochastic depth, then either global average pooling over the patch tokens + {@code fc_norm}, or the cls token
 * after {@code norm}; then the head ({@link ClassifierConfig.Head}). Parameter names are the official state_dict
 * names, so MAE encoders and official checkpoints load into it (see {@link EncoderWeights}).
 *
 * <p>A step is {@link #forward} (logits [B, classes]) then {@link #backward} with d(loss)/d(logits), which accumulates
 * the gradients. {@link #train} switches drop path and BatchNorm between training and eval behaviour. With
 * {@link #freezeEncoder} only the head trains and the backward stops at the head (linear probing costs a forward).
 */
public final class VitClassifier {
    /** trunc_normal std of the head weight in main_finetune.py. */
    public static final double FINETUNE_HEAD_STD = 2e-5;
    /** trunc_normal std of the head weight in main_linprobe.py. */
    public static final double LINPROBE_HEAD_STD = 0.01;
    /** The eps of main_linprobe.py's BatchNorm1d. */
    public static final float LINPROBE_BN_EPS = 1e-6f;

    private final ClassifierConfig config;
    private final Backend backend;
    private final ParameterSet params;
    private final Parameter clsToken, posEmbed;
    private final PatchEmbed patchEmbed;
    private final List<Block> blocks = new ArrayList<>();
    private final LayerNorm norm, fcNorm; // one of them, by pooling
    private final BatchNorm1d headNorm;   // linear probing only
    private final Linear head;            // null for the attentive probe, which has its own
    private final AttentiveProbe probe;   // attentive probing only
    private final List<Parameter> headParams;

    private boolean training = true, encoderFrozen, headOnlyForward, forwarded;
    private RandomGenerator rng;
    private int batch;
    private Tensor imgs, tokens, pooled, ones, dPooled, dTokens, dEmbedded, clsRows;

    /** A classifier initialised as a fresh encoder (official MAE init) with the official head init; seed 0. */
    public VitClassifier(ClassifierConfig config, Backend backend) {
        this(config, backend, 0L);
    }

    public VitClassifier(ClassifierConfig config, Backend backend, long seed) {
        this.config = config.validate();
        this.backend = backend;
        this.params = new ParameterSet(backend);
        int d = config.embedDim(), l = config.numPatches();
        clsToken = params.add("cls_token", true, 1, 1, d);
        posEmbed = params.add("pos_embed", true, 1, 1 + l, d);
        patchEmbed = new PatchEmbed(params, "patch_embed", config.patchSize(), config.inChans(), d);
        for (int i = 0; i < config.depth(); i++) {
            blocks.add(new Block(params, "blocks." + i, d, config.numHeads(), config.mlpRatio(), config.dropPathRate(i)));
        }
        norm = config.globalPool() ? null : new LayerNorm(params, "norm", d, LayerNorm.MAE_EPS);
        List<Parameter> before = params.all();
        SplittableRandom init = new SplittableRandom(seed);
        switch (config.head()) {
            case BATCHNORM_LINEAR -> {
                headNorm = new BatchNorm1d(params, "head.0", d, LINPROBE_BN_EPS, BatchNorm1d.TORCH_MOMENTUM, false);
                head = new Linear(params, "head.1", d, config.numClasses(), true);
                probe = null;
            }
            case ATTENTIVE -> {
                headNorm = null;
                head = null;
                probe = AttentiveProbe.cae(params, d, config.numHeads(), config.numClasses(), init.split());
                encoderFrozen = true;
            }
            default -> {
                headNorm = null;
                head = new Linear(params, "head", d, config.numClasses(), true);
                probe = null;
            }
        }
        headParams = params.all().stream().filter(p -> !before.contains(p) && p.trainable()).toList();
        // models_vit.py adds fc_norm after timm's constructor, so it comes last in the state_dict.
        fcNorm = config.globalPool() ? new LayerNorm(params, "fc_norm", d, LayerNorm.MAE_EPS) : null;
        initialize(init);
        rng = init.split();
    }

    public ClassifierConfig config() { return config; }

    public Backend backend() { return backend; }

    /** Every tensor under its official name (running statistics of the linear-probing BatchNorm included). */
    public ParameterSet parameters() { return params; }

    /** The head's trainable parameters ({@code head.weight}, {@code head.bias}, {@code head.1.*}, or the attentive probe's). */
    public List<Parameter> headParameters() { return headParams; }

    /** What an optimizer should update: the head only when the encoder is frozen, else every trainable parameter. */
    public List<Parameter> trainableParameters() { return encoderFrozen ? headParams : params.trainable(); }

    /** Training mode (drop path sampled, BatchNorm on batch statistics) or eval mode (both deterministic). */
    public void train(boolean on) {
        training = on;
        if (headNorm != null) headNorm.train(on);
        if (probe != null) probe.train(on);
    }

    public boolean training() { return training; }

    /** Linear probing: the backward stops at the head and no encoder gradient is computed. */
    public void freezeEncoder(boolean frozen) {
        if (!frozen && probe != null) throw new IllegalStateException("the attentive probe always reads a frozen encoder");
        encoderFrozen = frozen;
    }

    /**
     * The shape of one image's features that feed the head: [D] (pooled), or [1 + L, D] (every token, for the
     * attentive probe).
     */
    public int[] featureShape() {
        return probe != null ? new int[] {1 + config.numPatches(), config.embedDim()} : new int[] {config.embedDim()};
    }

    public boolean encoderFrozen() { return encoderFrozen; }

    /** Reseeds the drop-path masks: seeding per step (e.g. from seed and step) makes a resumed run repeat exactly. */
    public void reseed(long seed) { rng = new SplittableRandom(seed); }

    // ------------------------------------------------------------------ forward

    /** Logits [B, classes] for images [B, C, H, W]. The result stays valid until the next forward. */
    public Tensor forward(Tensor images) {
        return forward(images, null);
    }

    /** The same for a loader's batch (uploaded into a reused tensor). */
    public Tensor forward(Batch b) {
        imgs = Layer.reuse(backend, imgs, DType.F32, b.shape());
        backend.upload(b.images(), imgs);
        return forward(imgs);
    }

    /**
     * Forward with explicit drop-path keep masks (for tests and replays): {@code keep[2 * i]} is block i's attention
     * branch mask, {@code keep[2 * i + 1]} its MLP branch mask, each 0/1 per sample; null samples them in training.
     */
    public Tensor forward(Tensor images, float[][] keep) {
        return forwardHead(forwardFeatures(images, keep), false);
    }

    /**
     * The features that feed the head: [B, D] pooled (fc_norm of the mean patch token, or the normed cls token), or
     * for the attentive probe every token after {@code norm}, [B, 1 + L, D].
     */
    public Tensor forwardFeatures(Tensor images) {
        return forwardFeatures(images, null);
    }

    private Tensor forwardFeatures(Tensor images, float[][] keep) {
        int b = checkImages(images), l = config.numPatches(), d = config.embedDim();
        params.workspace().releaseAll();   // a step starts: loans of a step that threw are void
        this.batch = b;
        setDropPath(b, keep);
        Tensor emb = patchEmbed.forward(images);
        // Per image: row 0 = cls_token, rows 1..L = patch tokens; then + pos_embed on every row.
        tokens = ensure(tokens, b, 1 + l, d);
        backend.copyRows(b, l * d, new RowView(emb, 0, l * d), new RowView(tokens, d, (1 + l) * d));
        for (int i = 0; i < b; i++) backend.copy(clsToken.value(), 0, tokens, i * (1 + l) * d, d);
        backend.addBias(tokens, posEmbed.value());
        Tensor x = tokens;
        for (Block blk : blocks) x = blk.forward(x);
        if (config.globalPool()) {
            // pooled[b] = (1/L) * ones[1, L] x[b, 1:, :], one small GEMM per image.
            ones = ones(l);
            pooled = ensure(pooled, b, d);
            backend.gemmBatched(false, false, 1, d, l, 1f / l, ones, 0, l, 0, x, d, d, (1 + l) * d, 0f, pooled, 0, d, d, b);
            return fcNorm.forward(pooled);
        }
        if (probe != null) return norm.forward(x);
        // LayerNorm is per token, so normalising only the cls rows equals norm(x)[:, 0].
        clsRows = ensure(clsRows, b, d);
        backend.copyRows(b, d, new RowView(x, 0, (1 + l) * d), new RowView(clsRows, 0, d));
        return norm.forward(clsRows);
    }

    /**
     * The head alone on features [B, D] (or [B, 1 + L, D] for the attentive probe; e.g. cached features of a frozen
     * encoder); a following {@link #backward} stops at the head.
     */
    public Tensor forwardHead(Tensor features) {
        return forwardHead(features, true);
    }

    private Tensor forwardHead(Tensor features, boolean headOnly) {
        if (probe != null) {
            int t = 1 + config.numPatches(), d = config.embedDim();
            if (features.rank() != 3 || features.dim(1) != t || features.dim(2) != d) {
                throw new IllegalArgumentException("the attentive probe expects token features [B, " + t + ", " + d
                        + "], got " + features);
            }
            headOnlyForward = true;
            forwarded = true;
            return probe.forward(features);
        }
        if (features.rank() != 2 || features.dim(1) != config.embedDim()) {
            throw new IllegalArgumentException("the head expects features [B, " + config.embedDim() + "], got " + features);
        }
        headOnlyForward = headOnly;
        forwarded = true;
        Tensor f = headNorm == null ? features : headNorm.forward(features);
        return head.forward(f);
    }

    private void setDropPath(int b, float[][] keep) {
        if (keep != null && keep.length != 2 * blocks.size()) {
            throw new IllegalArgumentException("drop path masks: need " + 2 * blocks.size() + " (two per block), got " + keep.length);
        }
        for (int i = 0; i < blocks.size(); i++) {
            DropPath[] dps = {blocks.get(i).dropPathAttn(), blocks.get(i).dropPathMlp()};
            for (int j = 0; j < 2; j++) {
                if (!training) dps[j].disable();
                else if (keep != null) {
                    if (keep[2 * i + j].length != b) {
                        throw new IllegalArgumentException("drop path mask " + (2 * i + j) + " has " + keep[2 * i + j].length
                                + " entries for a batch of " + b);
                    }
                    dps[j].setKeepMask(keep[2 * i + j]);
                } else dps[j].sample(b, rng);
            }
        }
    }

    // ------------------------------------------------------------------ backward

    /**
     * Accumulates the gradients of the last forward from d(loss)/d(logits) [B, classes]: the head's, and unless the
     * encoder is frozen (or the forward was {@link #forwardHead}), every encoder parameter's.
     */
    public void backward(Tensor dLogits) {
        if (!forwarded) throw new IllegalStateException("backward() needs a forward() first");
        if (probe != null) { // the probe's input needs no gradient: the encoder under it is frozen
            probe.backward(dLogits);
            return;
        }
        if (encoderFrozen || headOnlyForward) { // the head's BatchNorm has no parameters: nothing below needs a gradient
            head.backward(dLogits, false);
            return;
        }
        Tensor g = head.backward(dLogits);
        if (headNorm != null) g = headNorm.backward(g);
        int b = batch, l = config.numPatches(), d = config.embedDim();
        dTokens = ensure(dTokens, b, 1 + l, d);
        if (config.globalPool()) {
            dPooled = fcNorm.backward(g);
            // Each patch row receives dPooled / L; the cls row receives nothing.
            backend.fill(dTokens, 0f);
            backend.gemmBatched(false, false, l, d, 1, 1f / l, ones, 0, 1, 0, dPooled, 0, d, d, 0f, dTokens, d, d, (1 + l) * d, b);
        } else {
            Tensor dCls = norm.backward(g);
            backend.fill(dTokens, 0f);
            backend.copyRows(b, d, new RowView(dCls, 0, d), new RowView(dTokens, 0, (1 + l) * d));
        }
        Tensor x = dTokens;
        for (int i = blocks.size() - 1; i >= 0; i--) x = blocks.get(i).backward(x);
        if (posEmbed.trainable()) backend.biasGrad(x, posEmbed.grad());
        clsRows = ensure(clsRows, b, d);
        backend.copyRows(b, d, new RowView(x, 0, (1 + l) * d), new RowView(clsRows, 0, d));
        backend.biasGrad(clsRows, clsToken.grad());
        dEmbedded = ensure(dEmbedded, b, l, d);
        backend.copyRows(b, l * d, new RowView(x, d, (1 + l) * d), new RowView(dEmbedded, 0, l * d));
        patchEmbed.backward(dEmbedded);
    }

    // ------------------------------------------------------------------ init and helpers

    /**
     * The official MAE initialize_weights for the encoder (sin-cos pos_embed, xavier-uniform Linear and patch
     * kernel, cls N(0, 0.02), LayerNorm 1/0), then the head as main_finetune/main_linprobe: trunc_normal weight
     * (std 2e-5 or 0.01), zero bias.
     */
    private void initialize(RandomGenerator r) {
        int d = config.embedDim();
        backend.upload(SinCosPositionEmbedding.withClsRow(d, config.gridSize()), posEmbed.value());
        int fanIn = config.inChans() * config.patchSize() * config.patchSize();
        Inits.uniform(backend, patchEmbed.weight(), Math.sqrt(6.0 / (fanIn + d)), r);
        Inits.uniform(backend, patchEmbed.bias(), 1.0 / Math.sqrt(fanIn), r);
        Inits.normal(backend, clsToken, 0.02, r);
        for (Parameter p : params.all()) {
            int[] s = p.shape();
            if (p.name().startsWith("blocks.") && p.name().endsWith(".weight") && s.length == 2) {
                Inits.uniform(backend, p, Math.sqrt(6.0 / (s[0] + s[1])), r);
            }
        }
        if (head == null) return; // the attentive probe initialised itself
        double std = config.head() == ClassifierConfig.Head.LINEAR ? FINETUNE_HEAD_STD : LINPROBE_HEAD_STD;
        Inits.truncNormal(backend, head.weight(), std, r);
    }

    private int checkImages(Tensor images) {
        int s = config.imgSize();
        if (images.rank() != 4 || images.dim(1) != config.inChans() || images.dim(2) != s || images.dim(3) != s) {
            throw new IllegalArgumentException("expected images [B, " + config.inChans() + ", " + s + ", " + s + "], got " + images);
        }
        if (images.dim(0) == 0) throw new IllegalArgumentException("empty batch: at least one image is needed");
        return images.dim(0);
    }

    private Tensor ones(int n) {
        if (ones != null && ones.size() == n) return ones;
        if (ones != null) backend.free(ones);
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return backend.fromHost(v, n);
    }

    private Tensor ensure(Tensor current, int... shape) {
        return Layer.reuse(backend, current, DType.F32, shape);
    }

    PatchEmbed patchEmbed() { return patchEmbed; }
}
