package org.maejvm.model.masking;

import java.util.random.RandomGenerator;
import org.maejvm.model.MaskPlan;

/**
 * The official MAE masking: uniform noise [B, L] drawn in row-major order from the generator, argsort, keep the
 * first {@code int(L * (1 - ratio))}. With the trainer's per-step generator this draws exactly the noise of
 * {@code MaskingNoise.PER_STEP}.
 */
public record RandomMasking() implements MaskingStrategy {

    @Override
    public MaskPlan plan(int batch, int gridH, int gridW, double maskRatio, RandomGenerator rng) {
        MaskingStrategy.checkSizes(batch, gridH, gridW);
        int patches = gridH * gridW;
        float[] noise = new float[batch * patches];
        for (int i = 0; i < noise.length; i++) noise[i] = rng.nextFloat();
        return MaskPlan.random(noise, batch, patches, maskRatio);
    }

    @Override
    public String spec() { return "random"; }
}
