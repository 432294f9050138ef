package org.maejvm.train;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.maejvm.data.RandomResizedCrop;

/**
 * Everything that decides a fine-tuning, linear-probing or attentive-probing run, with the argument names of the
 * official {@code main_finetune.py} / {@code main_linprobe.py} (and CAE's {@code run_attentive.py}).
 * {@link #finetune()}, {@link #linprobe()} and {@link #attnprobe()} give their defaults, with the epochs and warmup scaled down for small data (the official 100 / 90 epochs are for ImageNet).
 *
 * <p>Fine-tuning: AdamW with layer-wise lr decay, label smoothing, optional Mixup/CutMix, RandAugment and random
 * erasing, drop path. Linear probing: the encoder frozen, BatchNorm1d (no affine) + linear head, LARS, no
 * augmentation beyond crop and flip; with {@code cache_features} (the default here) the frozen encoder runs once over
 * the data without augmentation and the head trains on the cached features, which makes probing a small data set
 * take seconds per epoch instead of a full encoder pass per epoch.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record DownstreamConfig(
        @JsonProperty("mode") Mode mode,
        @JsonProperty("epochs") int epochs,
        @JsonProperty("batch_size") int batchSize,
        @JsonProperty("blr") double blr,
        @JsonProperty("lr") Double lr,
        @JsonProperty("min_lr") double minLr,
        @JsonProperty("warmup_epochs") double warmupEpochs,
        @JsonProperty("weight_decay") double weightDecay,
        @JsonProperty("layer_decay") double layerDecay,
        @JsonProperty("drop_path") double dropPath,
        @JsonProperty("smoothing") double smoothing,
        @JsonProperty("mixup") double mixup,
        @JsonProperty("cutmix") double cutmix,
        @JsonProperty("mixup_prob") double mixupProb,
        @JsonProperty("mixup_switch_prob") double mixupSwitchProb,
        @JsonProperty("aa") String aa,
        @JsonProperty("reprob") double reprob,
        @JsonProperty("global_pool") boolean globalPool,
        @JsonProperty("cache_features") boolean cacheFeatures,
        @JsonProperty("clip_grad") Double clipGrad,
        @JsonProperty("seed") long seed,
        @JsonProperty("output_dir") String outputDir,
        @JsonProperty("crop_min_scale") Double cropMinScale) {

    /** Which official script this run follows: MAE's main_finetune / main_linprobe, or CAE's run_attentive. */
    public enum Mode {
        FINETUNE, LINPROBE, ATTNPROBE;

        /** Whether the encoder is frozen (a probe). */
        public boolean probes() { return this != FINETUNE; }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * main_finetune.py: batch 64, blr 1e-3 (lr = blr * batch / 256), layer decay 0.75, weight decay 0.05, drop path
     * 0.1, smoothing 0.1, mixup/cutmix off (the script's defaults), rand-m9-mstd0.5-inc1, reprob 0.25, min lr 1e-6,
     * global pool; 10 epochs with 1 warmup epoch instead of 100 / 5.
     */
    public static Builder finetune() {
        return new Builder(new DownstreamConfig(Mode.FINETUNE, 10, 64, 1e-3, null, 1e-6, 1, 0.05, 0.75, 0.1, 0.1,
                0, 0, 1.0, 0.5, "rand-m9-mstd0.5-inc1", 0.25, true, false, null, 0, null, null));
    }

    /** Image sizes up to this use {@link #finetuneSmallImages()} when the recipe is chosen automatically. */
    public static final int SMALL_IMAGE_MAX = 32;

    /**
     * Fine-tuning for small images (28-32 px: Fashion-MNIST, CIFAR): {@link #finetune()} with the augmentation cut to
     * what such images survive: RandomResizedCrop keeping at least 35 % of the image (0.08 of a 28x28 image is an
     * 8x8 patch, a different picture from the whole one the model is evaluated on) and flip, no RandAugment, no
     * random erasing; and a faster start for a briefly pretrained encoder: blr 1e-2, layer decay 0.85, half an epoch
     * of warmup. Label smoothing 0.1 and drop path 0.1 stay. See docs/RESULTS.md for the numbers behind it.
     */
    public static Builder finetuneSmallImages() {
        return finetune().cropMinScale(0.35).aa(null).reprob(0).blr(1e-2).layerDecay(0.85).warmupEpochs(0.5);
    }

    /** The fine-tuning recipe for images of {@code imgSize}: {@link #finetuneSmallImages()} up to 32 px, else official. */
    public static Builder finetuneFor(int imgSize) {
        return imgSize <= SMALL_IMAGE_MAX ? finetuneSmallImages() : finetune();
    }

    /**
     * main_linprobe.py: weight decay 0, LARS, cls token, no smoothing or mixing, min lr 0, and its effective lr 6.4
     * (blr 0.1 x batch 16384 / 256) kept as the absolute lr: LARS scales each weight update to 0.001 x lr x |w|, so
     * the lr, not the batch, sets how far the head moves per step, and blr x 256 / 256 = 0.1 would barely move it.
     * Batch 256 instead of 16384, 20 epochs with 3 warmup epochs instead of 90 / 10, cached features.
     */
    public static Builder linprobe() {
        return new Builder(new DownstreamConfig(Mode.LINPROBE, 20, 256, 0.1, 6.4, 0, 3, 0, 1.0, 0, 0, 0, 0, 1.0, 0.5,
                null, 0, false, true, null, 0, null, null));
    }

    /**
     * CAE's attentive probing (scripts/cae_base_800e.sh, run_attentive.py): frozen encoder, CAE's attentive probe
     * over every token after the encoder's norm, SGD momentum 0.9, lr 0.4 (absolute, as CAE's), weight decay 0, no
     * smoothing, min lr 1e-6 (CAE's default). Batch 256 as CAE's per-GPU batch; 20 epochs with 2 warmup epochs
     * instead of 90 / 10; cached features as for linear probing.
     */
    public static Builder attnprobe() {
        return new Builder(new DownstreamConfig(Mode.ATTNPROBE, 20, 256, 0.4, 0.4, 1e-6, 2, 0, 1.0, 0, 0, 0, 0, 1.0, 0.5,
                null, 0, false, true, null, 0, null, null));
    }

    /** The defaults of a mode: {@link #finetune()}, {@link #linprobe()} or {@link #attnprobe()}. */
    public static Builder defaults(Mode mode) {
        return switch (mode) {
            case FINETUNE -> finetune();
            case LINPROBE -> linprobe();
            case ATTNPROBE -> attnprobe();
        };
    }

    /** The peak lr: {@code lr} if given, else {@code blr * batch_size / 256}. */
    @JsonIgnore
    public double effectiveLr() {
        return lr != null ? lr : blr * batchSize / 256.0;
    }

    /**
     * The smallest area fraction RandomResizedCrop keeps in training: {@code crop_min_scale} if set, else
     * torchvision's 0.08 (the official recipes).
     */
    @JsonIgnore
    public double cropScale() {
        return cropMinScale != null ? cropMinScale : RandomResizedCrop.TORCHVISION_DEFAULT.minScale();
    }

    /** Whether batches are mixed (then the batch size must be even, as timm's Mixup requires). */
    @JsonIgnore
    public boolean mixes() {
        return mixupProb > 0 && (mixup > 0 || cutmix > 0);
    }

    /** Checks the values; the exception lists every problem. */
    public DownstreamConfig validate() {
        List<String> p = new ArrayList<>();
        if (mode == null) p.add("mode must be finetune, linprobe or attnprobe");
        if (epochs < 1) p.add("epochs must be >= 1, got " + epochs);
        if (batchSize < 1) p.add("batch_size must be >= 1, got " + batchSize);
        if (!(blr > 0) && lr == null) p.add("blr must be > 0, got " + blr);
        if (lr != null && !(lr > 0)) p.add("lr must be > 0, got " + lr);
        if (!(minLr >= 0)) p.add("min_lr must be >= 0, got " + minLr);
        if (!(warmupEpochs >= 0)) p.add("warmup_epochs must be >= 0, got " + warmupEpochs);
        if (!(weightDecay >= 0)) p.add("weight_decay must be >= 0, got " + weightDecay);
        if (!(layerDecay > 0 && layerDecay <= 1)) p.add("layer_decay must be in (0, 1], got " + layerDecay);
        if (!(dropPath >= 0 && dropPath < 1)) p.add("drop_path must be in [0, 1), got " + dropPath);
        if (!(smoothing >= 0 && smoothing < 1)) p.add("smoothing must be in [0, 1), got " + smoothing);
        if (!(mixup >= 0) || !(cutmix >= 0)) p.add("mixup and cutmix must be >= 0, got " + mixup + " / " + cutmix);
        if (!(mixupProb >= 0 && mixupProb <= 1)) p.add("mixup_prob must be in [0, 1], got " + mixupProb);
        if (!(reprob >= 0 && reprob <= 1)) p.add("reprob must be in [0, 1], got " + reprob);
        if (cropMinScale != null && !(cropMinScale > 0 && cropMinScale <= 1)) {
            p.add("crop_min_scale must be in (0, 1], got " + cropMinScale);
        }
        if (clipGrad != null && !(clipGrad > 0)) p.add("clip_grad must be > 0, got " + clipGrad);
        if (mixes() && batchSize % 2 != 0) p.add("Mixup/CutMix need an even batch_size, got " + batchSize);
        if (mode == Mode.FINETUNE && cacheFeatures) p.add("cache_features is for probing (a frozen encoder) only");
        if (!p.isEmpty()) throw new IllegalArgumentException("bad downstream config: " + String.join("; ", p));
        return this;
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the config as JSON", e);
        }
    }

    public static DownstreamConfig fromJson(String json) {
        try {
            return JSON.readValue(json, DownstreamConfig.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a downstream config: " + e.getOriginalMessage(), e);
        }
    }

    public Builder toBuilder() { return new Builder(this); }

    /** Changes a config field by field; {@link #build} validates. */
    public static final class Builder {
        private Mode mode;
        private int epochs, batchSize;
        private double blr, minLr, warmupEpochs, weightDecay, layerDecay, dropPath, smoothing, mixup, cutmix,
                mixupProb, mixupSwitchProb, reprob;
        private Double lr, clipGrad, cropMinScale;
        private String aa, outputDir;
        private boolean globalPool, cacheFeatures;
        private long seed;

        Builder(DownstreamConfig c) {
            mode = c.mode; epochs = c.epochs; batchSize = c.batchSize; blr = c.blr; lr = c.lr; minLr = c.minLr;
            warmupEpochs = c.warmupEpochs; weightDecay = c.weightDecay; layerDecay = c.layerDecay;
            dropPath = c.dropPath; smoothing = c.smoothing; mixup = c.mixup; cutmix = c.cutmix;
            mixupProb = c.mixupProb; mixupSwitchProb = c.mixupSwitchProb; aa = c.aa; reprob = c.reprob;
            globalPool = c.globalPool; cacheFeatures = c.cacheFeatures; clipGrad = c.clipGrad; seed = c.seed;
            outputDir = c.outputDir; cropMinScale = c.cropMinScale;
        }

        public Builder epochs(int v) { epochs = v; return this; }
        public Builder batchSize(int v) { batchSize = v; return this; }
        public Builder blr(double v) { blr = v; return this; }
        public Builder lr(Double v) { lr = v; return this; }
        public Builder minLr(double v) { minLr = v; return this; }
        public Builder warmupEpochs(double v) { warmupEpochs = v; return this; }
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        public Builder layerDecay(double v) { layerDecay = v; return this; }
        public Builder dropPath(double v) { dropPath = v; return this; }
        public Builder smoothing(double v) { smoothing = v; return this; }
        public Builder mixup(double v) { mixup = v; return this; }
        public Builder cutmix(double v) { cutmix = v; return this; }
        public Builder mixupProb(double v) { mixupProb = v; return this; }
        public Builder mixupSwitchProb(double v) { mixupSwitchProb = v; return this; }
        /** A RandAugment spec such as rand-m9-mstd0.5-inc1, or null for none. */
        public Builder aa(String v) { aa = v; return this; }
        public Builder reprob(double v) { reprob = v; return this; }
        public Builder globalPool(boolean v) { globalPool = v; return this; }
        public Builder cacheFeatures(boolean v) { cacheFeatures = v; return this; }
        public Builder clipGrad(Double v) { clipGrad = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder outputDir(String v) { outputDir = v; return this; }
        /** RandomResizedCrop's smallest area fraction, or null for the official 0.08. */
        public Builder cropMinScale(Double v) { cropMinScale = v; return this; }

        public DownstreamConfig build() {
            return new DownstreamConfig(mode, epochs, batchSize, blr, lr, minLr, warmupEpochs, weightDecay, layerDecay,
                    dropPath, smoothing, mixup, cutmix, mixupProb, mixupSwitchProb, aa, reprob, globalPool,
                    cacheFeatures, clipGrad, seed, outputDir, cropMinScale).validate();
        }
    }
}
