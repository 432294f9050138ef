package org.maejvm.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What CAE (Chen et al. 2022) adds to the encoder shape of a {@link MaeConfig}, with the argument names of the
 * official {@code run_pretraining.py}. The regressor and the decoder work at the encoder's width (the official
 * default {@code decoder_embed_dim} = embed_dim); the MaeConfig's decoder_* fields are not used by CAE.
 *
 * @param regressorDepth              cross-attention blocks of the latent contextual regressor (official 4)
 * @param decoderDepth                self-attention blocks of the decoder on the masked tokens (official 4)
 * @param decoderNumHeads             heads of regressor and decoder blocks; 0 = the encoder's num_heads
 * @param layerScaleInitValue         encoder layer-scale gamma init (0.1 for base; 0 turns layer scale off)
 * @param decoderLayerScaleInitValue  regressor and decoder layer-scale init (0.1; 0 = off)
 * @param alignLossWeight             λ of the alignment loss λ · MSE(regressed latents, teacher latents) (2)
 * @param baseMomentum                EMA momentum of the teacher: teacher = m · teacher + (1 - m) · encoder after
 *                                    each forward (the official default 0 copies the encoder)
 * @param target                      what the decoder predicts: "pixels" (normalised per patch with the
 *                                    pretraining config's norm_pix_loss); the paper's DALL-E tokens need tokenizer
 *                                    weights and are not built in
 */
public record CaeConfig(
        @JsonProperty("regressor_depth") int regressorDepth,
        @JsonProperty("decoder_depth") int decoderDepth,
        @JsonProperty("decoder_num_heads") int decoderNumHeads,
        @JsonProperty("layer_scale_init_value") double layerScaleInitValue,
        @JsonProperty("decoder_layer_scale_init_value") double decoderLayerScaleInitValue,
        @JsonProperty("align_loss_weight") double alignLossWeight,
        @JsonProperty("base_momentum") double baseMomentum,
        @JsonProperty("target") String target) {

    public static final String PIXELS = "pixels";

    /** The official CAE-base recipe (cae_base_800e.sh). */
    public static CaeConfig defaults() {
        return new CaeConfig(4, 4, 0, 0.1, 0.1, 2.0, 0.0, PIXELS);
    }

    public CaeConfig withAlignLossWeight(double v) {
        return new CaeConfig(regressorDepth, decoderDepth, decoderNumHeads, layerScaleInitValue, decoderLayerScaleInitValue,
                v, baseMomentum, target);
    }

    public CaeConfig withBaseMomentum(double v) {
        return new CaeConfig(regressorDepth, decoderDepth, decoderNumHeads, layerScaleInitValue, decoderLayerScaleInitValue,
                alignLossWeight, v, target);
    }

    public CaeConfig withDepths(int regressor, int decoder) {
        return new CaeConfig(regressor, decoder, decoderNumHeads, layerScaleInitValue, decoderLayerScaleInitValue,
                alignLossWeight, baseMomentum, target);
    }

    /** Heads of the regressor and decoder for an encoder. */
    public int headsFor(MaeConfig encoder) {
        return decoderNumHeads > 0 ? decoderNumHeads : encoder.numHeads();
    }

    /** Checks this config against an encoder; the exception lists every problem. */
    public CaeConfig validate(MaeConfig encoder) {
        List<String> problems = new ArrayList<>();
        if (regressorDepth < 1) problems.add("regressor_depth must be >= 1, got " + regressorDepth);
        if (decoderDepth < 1) problems.add("decoder_depth must be >= 1, got " + decoderDepth);
        if (decoderNumHeads < 0) problems.add("decoder_num_heads must be >= 0 (0 = the encoder's), got " + decoderNumHeads);
        else if (encoder != null && encoder.embedDim() > 0 && headsFor(encoder) > 0 && encoder.embedDim() % headsFor(encoder) != 0) {
            problems.add("decoder_num_heads " + headsFor(encoder) + " does not divide embed_dim " + encoder.embedDim());
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
        if (target != null && !PIXELS.equals(target.toLowerCase(Locale.ROOT))) {
            problems.add("target '" + target + "' is not supported; CAE here predicts 'pixels' (norm_pix_loss for"
                    + " normalised pixels); DALL-E token targets need tokenizer weights that are not built in");
        }
        if (!problems.isEmpty()) throw new IllegalArgumentException("invalid CAE config: " + String.join("; ", problems));
        return this;
    }
}
