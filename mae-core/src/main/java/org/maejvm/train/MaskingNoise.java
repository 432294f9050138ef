package org.maejvm.train;

import java.util.SplittableRandom;
import org.maejvm.data.Batch;

/**
 * The uniform noise [B, L] whose argsort decides MAE's masking (the official {@code torch.rand(N, L)}); every other
 * masking strategy also masks image i from row i alone ({@code MaskingStrategy.planFromNoise}). The default draws it
 * from a generator derived from (seed, global step), so a resumed run masks exactly as an uninterrupted one.
 */
@FunctionalInterface
public interface MaskingNoise {
    /** Noise for data step {@code globalStep} (counted over all epochs from 0) and its batch. */
    float[] noise(long seed, long globalStep, Batch batch, int patches);

    /** The default: one generator per global step. */
    MaskingNoise PER_STEP = (seed, globalStep, batch, patches) -> {
        SplittableRandom rng = new SplittableRandom(Streams.derive(seed, Streams.NOISE, globalStep));
        float[] out = new float[batch.size() * patches];
        for (int i = 0; i < out.length; i++) out[i] = rng.nextFloat();
        return out;
    };

    /**
     * One generator per (seed, dataset index): an image is masked the same way wherever it lands, e.g. to compare
     * accum_iter 2 with batch b against accum_iter 1 with batch 2b.
     */
    MaskingNoise PER_IMAGE = (seed, globalStep, batch, patches) -> {
        float[] out = new float[batch.size() * patches];
        for (int i = 0; i < batch.size(); i++) {
            SplittableRandom rng = new SplittableRandom(Streams.derive(seed, Streams.NOISE, batch.indices()[i]));
            for (int j = 0; j < patches; j++) out[i * patches + j] = rng.nextFloat();
        }
        return out;
    };
}
