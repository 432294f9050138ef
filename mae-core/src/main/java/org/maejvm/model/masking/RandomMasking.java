package org.maejvm.model.masking;

import org.maejvm.model.MaskPlan;

/**
 * The official MAE masking: argsort of the uniform noise [B, L], keep the first {@code int(L * (1 - ratio))}. From
 * a generator the noise is drawn row-major, so with the trainer's per-step generator this is exactly
 * {@code MaskingNoise.PER_STEP}.
 */
public record RandomMasking() implements MaskingStrategy {

    @Override
    public MaskPlan planFromNoise(float[] noise, int batch, int gridH, int gridW, double maskRatio) {
        MaskingStrategy.checkNoise(noise, batch, gridH, gridW);
        return MaskPlan.random(noise, batch, gridH * gridW, maskRatio);
    }

    @Override
    public String spec() { return "random"; }
}
