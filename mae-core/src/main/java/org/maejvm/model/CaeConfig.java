package org.maejvm.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What CAE (Chen et al. 2022) adds to the encoder shape of a {@link MaeConfig}, with the argument names of the
 * official {@code run_pretraining.py}. The MaeConfig's decoder_* fields are not used by CAE.
 *
 * @param regressorDepth              cross-attention blocks of the latent contextual regressor (official 4)
 * @param decoderDepth                self-attention blocks of the decoder on the masked tokens (official 4)
 * @param decoderNumHeads             heads of regressor and decoder blocks; 0 = the encoder's num_heads
 * @param layerScaleInitValue         encoder layer-scale gamma init (0.1 for base; 0 turns layer scale off)
 * @param decoderLayerScaleInitValue  regressor and decoder layer-scale init (0.1; 0 = off)
 * @param alignLossWeight             λ of the alignment loss λ · MSE(regressed latents, teacher latents) (2)
 * @param baseMomentum                EMA momentum of the teacher: teacher = m · teacher + (1 - m) · encoder once
 *                                    per optimizer step (the official default 0 copies the encoder)
 * @param target                      what the decoder predicts: "pixels" (normalised per patch with the
 *                                    pretraining config's norm_pix_loss); the paper's DALL-E tokens need tokenizer
 *                                    weights and are not built in
 * @param decoderEmbedDim             width of the regressor and decoder; 0 = the encoder's embed_dim (official
 *                                    default). Another width adds the official {@code encoder_to_decoder} Linear and
 *                                    {@code encoder_to_decoder_norm} LayerNorm after the encoder (and the teacher)
 * @param dropPath                    stochastic-depth rate of the last block (the official {@code --drop_path}, 0.1
 *                                    for base), rising linearly from 0 over the blocks of the encoder (and the
 *                                    teacher, which the official code runs in training mode), of the regressor and
 *                                    of the decoder, each on its own
 */
public record CaeConfig(
        @JsonProperty("regressor_depth") int regressorDepth,
        @JsonProperty("decoder_depth") int decoderDepth,
        @JsonProperty("decoder_num_heads") int decoderNumHeads,
        @JsonProperty("layer_scale_init_value") double layerScaleInitValue,
        @JsonProperty("decoder_layer_scale_init_value") double decoderLayerScaleInitValue,
        @JsonProperty("align_loss_weight") double alignLossWeight,
        @JsonProperty("base_momentum") double baseMomentum,
        @JsonProperty("target") String target,
        @JsonProperty("decoder_embed_dim") int decoderEmbedDim,
        @JsonProperty("drop_path") double dropPath) {

    public static final String PIXELS = "pixels";

    /** The official CAE-base recipe (cae_base_800e.sh). */
    public static CaeConfig defaults() {
        return new CaeConfig(4, 4, 0, 0.1, 0.1, 2.0, 0.0, PIXELS, 0, 0.1);
    }

    public CaeConfig withAlignLossWeight(double v) {
        return new CaeConfig(regressorDepth, decoderDepth, decoderNumHeads, layerScaleInitValue, decoderLayerScaleInitValue,
                v, baseMomentum, target, decoderEmbedDim, dropPath);
    }

    public CaeConfig withBaseMomentum(double v) {
        return new CaeConfig(regressorDepth, decoderDepth, decoderNumHeads, layerScaleInitValue, decoderLayerScaleInitValue,
                alignLossWeight, v, target, decoderEmbedDim, dropPath);
    }

    public CaeConfig withDepths(int regressor, int decoder) {
        return new CaeConfig(regressor, decoder, decoderNumHeads, layerScaleInitValue, decoderLayerScaleInitValue,
                alignLossWeight, baseMomentum, target, decoderEmbedDim, dropPath);
    }

    public CaeConfig withDropPath(double v) {
        return new CaeConfig(regressorDepth, decoderDepth, decoderNumHeads, layerScaleInitValue, decoderLayerScaleInitValue,
                alignLossWeight, baseMomentum, target, decoderEmbedDim, v);
    }

    /** Regressor and decoder width and heads (0 = the encoder's). */
    public CaeConfig withDecoder(int embedDim, int numHeads) {
        return new CaeConfig(regressorDepth, decoderDepth, numHeads, layerScaleInitValue, decoderLayerScaleInitValue,
                alignLossWeight, baseMomentum, target, embedDim, dropPath);
    }

    /**
     * This config with every field that {@code section} (the JSON object it was read from) does not name taken from
     * {@link #defaults()}: a config may give only the fields it changes.
     */
    public CaeConfig withDefaultsFor(JsonNode section) {
        CaeConfig d = defaults();
        return new CaeConfig(
                section.has("regressor_depth") ? regressorDepth : d.regressorDepth,
                section.has("decoder_depth") ? decoderDepth : d.decoderDepth,
                section.has("decoder_num_heads") ? decoderNumHeads : d.decoderNumHeads,
                section.has("layer_scale_init_value") ? layerScaleInitValue : d.layerScaleInitValue,
                section.has("decoder_layer_scale_init_value") ? decoderLayerScaleInitValue : d.decoderLayerScaleInitValue,
                section.has("align_loss_weight") ? alignLossWeight : d.alignLossWeight,
                section.has("base_momentum") ? baseMomentum : d.baseMomentum,
                section.has("target") ? target : d.target,
                section.has("decoder_embed_dim") ? decoderEmbedDim : d.decoderEmbedDim,
                section.has("drop_path") ? dropPath : d.dropPath);
    }

    /** Heads of the regressor and decoder for an encoder. */
    public int headsFor(MaeConfig encoder) {
        return decoderNumHeads > 0 ? decoderNumHeads : encoder.numHeads();
    }

    /** Width of the regressor and decoder for an encoder. */
    public int widthFor(MaeConfig encoder) {
        return decoderEmbedDim > 0 ? decoderEmbedDim : encoder.embedDim();
    }

    /** torch.linspace(0, drop_path, depth)[index]: the rate of block {@code index} of a stack of {@code depth}. */
    public double dropPathRate(int index, int depth) {
        return depth <= 1 ? 0.0 : dropPath * index / (depth - 1);
    }

    /** Checks this config against an encoder; the exception lists every problem. */
    public CaeConfig validate(MaeConfig encoder) {
        List<String> problems = new ArrayList<>();
        if (regressorDepth < 1) problems.add("regressor_depth must be >= 1, got " + regressorDepth);
        if (decoderDepth < 1) problems.add("decoder_depth must be >= 1, got " + decoderDepth);
        if (decoderEmbedDim < 0) problems.add("decoder_embed_dim must be >= 0 (0 = the encoder's), got " + decoderEmbedDim);
        if (decoderNumHeads < 0) {
            problems.add("decoder_num_heads must be >= 0 (0 = the encoder's), got " + decoderNumHeads);
        } else if (decoderEmbedDim >= 0 && encoder != null && encoder.embedDim() > 0 && headsFor(encoder) > 0) {
            int width = widthFor(encoder), heads = headsFor(encoder);
            if (width % heads != 0) {
                problems.add("decoder_num_heads " + heads + " does not divide the regressor/decoder width " + width
                        + (decoderEmbedDim > 0 ? " (decoder_embed_dim)" : " (embed_dim)"));
            }
            if (decoderEmbedDim > 0 && width % 4 != 0) {
                problems.add("decoder_embed_dim must be a multiple of 4 (2-D sin-cos positions), got " + decoderEmbedDim);
            }
        }
        if (!(layerScaleInitValue >= 0) || !Double.isFinite(layerScaleInitValue)) {
            problems.add("layer_scale_init_value must be >= 0 (0 = off), got " + layerScaleInitValue);
        }
        if (!(decoderLayerScaleInitValue >= 0) || !Double.isFinite(decoderLayerScaleInitValue)) {
            problems.add("decoder_layer_scale_init_value must be >= 0 (0 = off), got " + decoderLayerScaleInitValue);
        }
        if (!(alignLossWeight >= 0) || !Double.isFinite(alignLossWeight)) {
            problems.add("align_loss_weight must be >= 0, got " + alignLossWeight);
        }
        if (!(baseMomentum >= 0 && baseMomentum <= 1)) problems.add("base_momentum must be in [0, 1], got " + baseMomentum);
        if (!(dropPath >= 0 && dropPath < 1)) problems.add("drop_path must be in [0, 1) (0 = off), got " + dropPath);
        if (target != null && !PIXELS.equals(target.toLowerCase(Locale.ROOT))) {
            problems.add("target '" + target + "' is not supported; CAE here predicts 'pixels' (norm_pix_loss for"
                    + " normalised pixels); DALL-E token targets need tokenizer weights that are not built in");
        }
        if (!problems.isEmpty()) throw new IllegalArgumentException("invalid CAE config: " + String.join("; ", problems));
        return this;
    }
}
