package org.maejvm.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The shape of an MAE model, with the field names of the official code (and of a parity fixture's config.json).
 * {@link #validate()} rejects impossible combinations with a message per problem.
 */
public record MaeConfig(
        @JsonProperty("img_size") int imgSize,
        @JsonProperty("patch_size") int patchSize,
        @JsonProperty("in_chans") int inChans,
        @JsonProperty("embed_dim") int embedDim,
        @JsonProperty("depth") int depth,
        @JsonProperty("num_heads") int numHeads,
        @JsonProperty("decoder_embed_dim") int decoderEmbedDim,
        @JsonProperty("decoder_depth") int decoderDepth,
        @JsonProperty("decoder_num_heads") int decoderNumHeads,
        @JsonProperty("mlp_ratio") double mlpRatio,
        @JsonProperty("norm_pix_loss") boolean normPixLoss) {

    /** mae_vit_base_patch16_dec512d8b. */
    public static MaeConfig base() { return new MaeConfig(224, 16, 3, 768, 12, 12, 512, 8, 16, 4.0, false); }

    /** mae_vit_large_patch16_dec512d8b. */
    public static MaeConfig large() { return new MaeConfig(224, 16, 3, 1024, 24, 16, 512, 8, 16, 4.0, false); }

    /** mae_vit_huge_patch14_dec512d8b. */
    public static MaeConfig huge() { return new MaeConfig(224, 14, 3, 1280, 32, 16, 512, 8, 16, 4.0, false); }

    /** A preset by its official name (with or without the _dec512d8b suffix) or a short name: base, large, huge. */
    public static MaeConfig named(String name) {
        String n = name.toLowerCase(Locale.ROOT).replace("_dec512d8b", "");
        return switch (n) {
            case "base", "mae_vit_base_patch16" -> base();
            case "large", "mae_vit_large_patch16" -> large();
            case "huge", "mae_vit_huge_patch14" -> huge();
            default -> throw new IllegalArgumentException("unknown model '" + name
                    + "'; known: mae_vit_base_patch16, mae_vit_large_patch16, mae_vit_huge_patch14 (or base, large, huge)");
        };
    }

    public MaeConfig withNormPixLoss(boolean on) {
        return new MaeConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, decoderEmbedDim, decoderDepth,
                decoderNumHeads, mlpRatio, on);
    }

    public int gridSize() { return imgSize / patchSize; }

    public int numPatches() { return gridSize() * gridSize(); }

    /** Values per patch: p * p * C. */
    public int patchDim() { return patchSize * patchSize * inChans; }

    /** Checks the config and returns it; the exception lists every problem found. */
    public MaeConfig validate() {
        List<String> problems = new ArrayList<>();
        positive(problems, "img_size", imgSize);
        positive(problems, "patch_size", patchSize);
        positive(problems, "in_chans", inChans);
        positive(problems, "embed_dim", embedDim);
        positive(problems, "depth", depth);
        positive(problems, "num_heads", numHeads);
        positive(problems, "decoder_embed_dim", decoderEmbedDim);
        positive(problems, "decoder_depth", decoderDepth);
        positive(problems, "decoder_num_heads", decoderNumHeads);
        if (imgSize > 0 && patchSize > 0 && imgSize % patchSize != 0) {
            problems.add("patch_size " + patchSize + " does not divide img_size " + imgSize);
        }
        if (embedDim > 0 && numHeads > 0 && embedDim % numHeads != 0) {
            problems.add("num_heads " + numHeads + " does not divide embed_dim " + embedDim);
        }
        if (decoderEmbedDim > 0 && decoderNumHeads > 0 && decoderEmbedDim % decoderNumHeads != 0) {
            problems.add("decoder_num_heads " + decoderNumHeads + " does not divide decoder_embed_dim " + decoderEmbedDim);
        }
        if (embedDim > 0 && embedDim % 4 != 0) problems.add("embed_dim " + embedDim + " must be divisible by 4 (2-D sin-cos position embedding)");
        if (decoderEmbedDim > 0 && decoderEmbedDim % 4 != 0) {
            problems.add("decoder_embed_dim " + decoderEmbedDim + " must be divisible by 4 (2-D sin-cos position embedding)");
        }
        if (!(mlpRatio > 0) || embedDim * mlpRatio < 1) problems.add("mlp_ratio must be > 0, got " + mlpRatio);
        if (normPixLoss && patchDim() < 2) problems.add("norm_pix_loss needs at least 2 values per patch");
        if (!problems.isEmpty()) throw new IllegalArgumentException("invalid MAE config: " + String.join("; ", problems));
        return this;
    }

    private static void positive(List<String> problems, String field, int value) {
        if (value <= 0) problems.add(field + " must be > 0, got " + value);
    }
}
