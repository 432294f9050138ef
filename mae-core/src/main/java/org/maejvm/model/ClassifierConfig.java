package org.maejvm.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.List;

/**
 * The shape of a {@link VitClassifier}: the ViT encoder (official models_vit.py names), the number of classes and
 * the downstream choices. {@code globalPool}: average the patch tokens and apply {@code fc_norm} (the official
 * fine-tuning default) instead of taking the cls token after {@code norm} (the linear-probing default).
 * {@code dropPathRate}: the stochastic-depth rate of the last block, increasing linearly from 0 at the first.
 * {@code head}: a plain {@code Linear} (fine-tuning) or {@code BatchNorm1d(affine=False) + Linear} (linear probing).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ClassifierConfig(
        @JsonProperty("img_size") int imgSize,
        @JsonProperty("patch_size") int patchSize,
        @JsonProperty("in_chans") int inChans,
        @JsonProperty("embed_dim") int embedDim,
        @JsonProperty("depth") int depth,
        @JsonProperty("num_heads") int numHeads,
        @JsonProperty("mlp_ratio") double mlpRatio,
        @JsonProperty("num_classes") int numClasses,
        @JsonProperty("global_pool") boolean globalPool,
        @JsonProperty("drop_path") double dropPathRate,
        @JsonProperty("head") Head head) {

    /** The classification head. */
    public enum Head {
        /** {@code head = Linear(D, classes)}, weight trunc_normal(std 2e-5), as main_finetune.py. */
        LINEAR,
        /** {@code head = Sequential(BatchNorm1d(D, affine=False, eps=1e-6), Linear(D, classes))}, weight std 0.01, as main_linprobe.py. */
        BATCHNORM_LINEAR,
        /**
         * CAE's attentive probe ({@link AttentiveProbe#cae}): a learnable query cross-attends to every token of the
         * frozen encoder after {@code norm}, then {@code fc_norm} = BatchNorm1d(affine=False) and {@code head};
         * the encoder is always frozen.
         */
        ATTENTIVE
    }

    /** The official fine-tuning model for an MAE encoder: global pool + fc_norm, linear head. */
    public static ClassifierConfig finetune(MaeConfig encoder, int numClasses, double dropPathRate) {
        return new ClassifierConfig(encoder.imgSize(), encoder.patchSize(), encoder.inChans(), encoder.embedDim(),
                encoder.depth(), encoder.numHeads(), encoder.mlpRatio(), numClasses, true, dropPathRate, Head.LINEAR);
    }

    /** The official linear-probing model for an MAE encoder: cls token + norm, BatchNorm1d + linear head, no drop path. */
    public static ClassifierConfig linprobe(MaeConfig encoder, int numClasses) {
        return new ClassifierConfig(encoder.imgSize(), encoder.patchSize(), encoder.inChans(), encoder.embedDim(),
                encoder.depth(), encoder.numHeads(), encoder.mlpRatio(), numClasses, false, 0, Head.BATCHNORM_LINEAR);
    }

    /** CAE's attentive probing model: every token after the encoder's final norm, an attentive probe, no drop path. */
    public static ClassifierConfig attentive(MaeConfig encoder, int numClasses) {
        return new ClassifierConfig(encoder.imgSize(), encoder.patchSize(), encoder.inChans(), encoder.embedDim(),
                encoder.depth(), encoder.numHeads(), encoder.mlpRatio(), numClasses, false, 0, Head.ATTENTIVE);
    }

    public ClassifierConfig withImgSize(int size) {
        return new ClassifierConfig(size, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, numClasses, globalPool, dropPathRate, head);
    }

    public ClassifierConfig withGlobalPool(boolean on) {
        return new ClassifierConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, numClasses, on, dropPathRate, head);
    }

    public int gridSize() { return imgSize / patchSize; }

    public int numPatches() { return gridSize() * gridSize(); }

    /** The drop-path rate of block i: timm's {@code torch.linspace(0, drop_path_rate, depth)[i]}. */
    public double dropPathRate(int block) {
        if (block < 0 || block >= depth) throw new IndexOutOfBoundsException("block " + block + " of " + depth);
        return depth == 1 ? 0 : dropPathRate * block / (depth - 1);
    }

    /** Checks the config and returns it; the exception lists every problem found. */
    public ClassifierConfig validate() {
        List<String> problems = new ArrayList<>();
        if (imgSize <= 0) problems.add("img_size must be > 0, got " + imgSize);
        if (patchSize <= 0) problems.add("patch_size must be > 0, got " + patchSize);
        if (inChans <= 0) problems.add("in_chans must be > 0, got " + inChans);
        if (embedDim <= 0) problems.add("embed_dim must be > 0, got " + embedDim);
        if (depth <= 0) problems.add("depth must be > 0, got " + depth);
        if (numHeads <= 0) problems.add("num_heads must be > 0, got " + numHeads);
        if (numClasses <= 0) problems.add("num_classes must be > 0, got " + numClasses);
        if (imgSize > 0 && patchSize > 0 && imgSize % patchSize != 0) {
            problems.add("patch_size " + patchSize + " does not divide img_size " + imgSize);
        }
        if (embedDim > 0 && numHeads > 0 && embedDim % numHeads != 0) {
            problems.add("num_heads " + numHeads + " does not divide embed_dim " + embedDim);
        }
        if (embedDim > 0 && embedDim % 4 != 0) problems.add("embed_dim " + embedDim + " must be divisible by 4 (2-D sin-cos position embedding)");
        if (!(mlpRatio > 0) || embedDim * mlpRatio < 1) problems.add("mlp_ratio must be > 0, got " + mlpRatio);
        if (!(dropPathRate >= 0 && dropPathRate < 1)) problems.add("drop_path must be in [0, 1), got " + dropPathRate);
        if (head == null) problems.add("head must be LINEAR, BATCHNORM_LINEAR or ATTENTIVE");
        if (head == Head.ATTENTIVE && globalPool) problems.add("the attentive probe reads every token: global_pool must be false");
        if (head == Head.ATTENTIVE && dropPathRate != 0) problems.add("the attentive probe reads a frozen encoder: drop_path must be 0");
        if (!problems.isEmpty()) throw new IllegalArgumentException("invalid classifier config: " + String.join("; ", problems));
        return this;
    }
}
