package org.maejvm.viz;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.maejvm.data.Normalization;
import org.maejvm.model.MaeConfig;
import org.maejvm.model.MaeModel;
import org.maejvm.ops.Backend;
import org.maejvm.tensor.Tensor;

/**
 * What an MAE makes of a batch: one forward pass with seeded random masking, the prediction unpatchified back to
 * images and, for a norm_pix_loss model, un-normalised with each original patch's own mean and std (as the loss
 * normalised the target). Arrays are [B, C, H, W] in the model's input space (dataset-normalised);
 * {@link #panels} turns them into pictures.
 */
public final class Reconstruction {
    /** What a masked patch shows in the "masked" panel: mid grey, as the official figure greys masked patches. */
    public static final float MASK_GREY = 0.5f;
    /** The caption note of a norm_pix_loss model. */
    public static final String NORM_PIX_NOTE =
            "predictions un-normalised with each patch's own mean/std \u2014 norm_pix_loss model";

    private final MaeConfig config;
    private final String backendName;
    private final double maskRatio;
    private final long seed;
    private final float loss;
    private final int batch;
    private final float[] input, predicted, mask;

    private Reconstruction(MaeConfig config, String backendName, double maskRatio, long seed, float loss, int batch,
                           float[] input, float[] predicted, float[] mask) {
        this.config = config;
        this.backendName = backendName;
        this.maskRatio = maskRatio;
        this.seed = seed;
        this.loss = loss;
        this.batch = batch;
        this.input = input;
        this.predicted = predicted;
        this.mask = mask;
    }

    /**
     * Runs the model on images [B, C, H, W] (normalised as in training) on the model's backend. The masking noise
     * comes from {@code new SplittableRandom(seed)}, so the same seed masks the same patches.
     */
    public static Reconstruction run(MaeModel model, Tensor imgs, double maskRatio, long seed) {
        MaeConfig cfg = model.config();
        Backend backend = model.backend();
        float loss = model.forward(imgs, maskRatio, new SplittableRandom(seed));
        int b = imgs.dim(0), l = cfg.numPatches(), p = cfg.patchDim();
        float[] pred = backend.toHost(model.pred());
        if (cfg.normPixLoss()) {
            Tensor target = backend.zeros(b, l, p);
            backend.patchify(imgs, cfg.patchSize(), true, target);
            pred = Unnormalize.perPatch(pred, backend.toHost(target), p);
            backend.free(target);
        }
        float[] predImgs = Patches.unpatchify(pred, b, cfg.inChans(), cfg.imgSize(), cfg.patchSize());
        return new Reconstruction(cfg, backend.name(), maskRatio, seed, loss, b, backend.toHost(imgs), predImgs,
                model.maskPlan().mask().clone());
    }

    public MaeConfig config() { return config; }

    public String backendName() { return backendName; }

    public double maskRatio() { return maskRatio; }

    public long seed() { return seed; }

    /** The model's loss on this batch (MSE on the masked patches, in normalised-pixel space for norm_pix_loss). */
    public float loss() { return loss; }

    public int batch() { return batch; }

    /** Whether the model's predictions were un-normalised per patch (a norm_pix_loss model). */
    public boolean normPixUndone() { return config.normPixLoss(); }

    /** The input images. */
    public float[] original() { return input.clone(); }

    /** The prediction for every patch, visible ones included, in input space. */
    public float[] reconstruction() { return predicted.clone(); }

    /** The mask [B, L]: 1 for a removed patch, 0 for a visible one. */
    public float[] mask() { return mask.clone(); }

    /** Whether pixel (y, x) of image {@code image} lies in a visible patch. */
    public boolean visible(int image, int y, int x) {
        int s = config.imgSize();
        return mask[image * config.numPatches() + Patches.patchAt(y, x, s, config.patchSize())] == 0f;
    }

    /** The reconstruction with the visible patches replaced by the input's, as the official {@code im_paste}. */
    public float[] pasted() {
        return select(input, predicted);
    }

    /** visible ? a : b, per pixel. */
    private float[] select(float[] visibleSource, float[] maskedSource) {
        int c = config.inChans(), s = config.imgSize();
        float[] out = new float[input.length];
        for (int b = 0; b < batch; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < s; y++) {
                    for (int x = 0; x < s; x++) {
                        int at = ((b * c + ch) * s + y) * s + x;
                        out[at] = visible(b, y, x) ? visibleSource[at] : maskedSource[at];
                    }
                }
            }
        }
        return out;
    }

    /** The four panels of every image, un-normalised with the dataset's Normalize statistics. */
    public List<Panels> panels(Normalization normalization) {
        return panels(normalization.mean(), normalization.std());
    }

    /**
     * The four panels of every image, un-normalised with the dataset's per-channel {@code mean}/{@code std} (one
     * value each for grey images) and clipped to [0, 1].
     */
    public List<Panels> panels(float[] mean, float[] std) {
        int c = config.inChans(), s = config.imgSize(), plane = s * s;
        float[] original = Unnormalize.channels(input, c, plane, mean, std);
        float[] recon = Unnormalize.channels(predicted, c, plane, mean, std);
        float[] grey = new float[input.length];
        Arrays.fill(grey, MASK_GREY);
        float[] masked = select(original, grey);
        float[] pasted = select(original, recon);
        List<Panels> out = new ArrayList<>(batch);
        for (int b = 0; b < batch; b++) {
            int off = b * c * plane;
            out.add(new Panels(Pictures.toImage(original, off, c, s), Pictures.toImage(masked, off, c, s),
                    Pictures.toImage(recon, off, c, s), Pictures.toImage(pasted, off, c, s)));
        }
        return out;
    }

    /** The figure's caption: model, mask ratio, loss, seed and backend; plus the note for a norm_pix_loss model. */
    public List<String> caption(String modelName) {
        List<String> lines = new ArrayList<>();
        String name = modelName == null || modelName.isBlank() ? describeShape(config) : modelName;
        lines.add(String.format(Locale.ROOT, "%s | mask ratio %.2f | loss %.4f | seed %d | backend %s",
                name, maskRatio, loss, seed, backendName));
        if (config.normPixLoss()) lines.add(NORM_PIX_NOTE);
        return lines;
    }

    /** A short description of a model by its shape, for captions when it has no name. */
    static String describeShape(MaeConfig c) {
        return String.format(Locale.ROOT, "MAE img %d patch %d, %d ch, enc %dx%d, dec %dx%d%s", c.imgSize(), c.patchSize(),
                c.inChans(), c.depth(), c.embedDim(), c.decoderDepth(), c.decoderEmbedDim(),
                c.normPixLoss() ? ", norm_pix_loss" : "");
    }
}
