package org.maejvm.model.masking;

import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.maejvm.model.MaskPlan;

/**
 * Chooses which patches each image of a batch hides. Every strategy returns the {@link MaskPlan} contract of MAE's
 * {@code random_masking} (mask, ids_restore, ids_keep) with the same number of kept patches in every image, since
 * the batched encoder takes the same count of visible tokens from each.
 *
 * <p>Randomness follows random masking's contract: uniform noise [B, L], one row per image, and image i's mask is
 * a function of row i alone ({@link #planFromNoise}). So whoever supplies the noise (the trainer's per-step or
 * per-image streams, a data-parallel rank holding a slice of the global batch, a resumed run) gets the masks a
 * single process would draw for the same rows. Strategies that need other random numbers than L uniforms (block
 * sizes, grid offsets) draw them from a generator seeded by a hash of the image's row ({@link #imageRandom}).
 *
 * <p>Strategies: {@link RandomMasking} (official MAE), {@link BlockMasking} (BEiT/CAE blocks),
 * {@link GridMasking} (one kept patch per k x k cell), {@link FocusMasking} (weighted random). {@link MaskingSpec}
 * names them in configs and on the command line.
 */
public interface MaskingStrategy {

    /**
     * A plan for {@code batch} images of {@code gridH x gridW} patches that removes about {@code maskRatio} of them,
     * from uniform noise in [0, 1) laid out [batch, gridH * gridW]; image i depends on row i only.
     */
    MaskPlan planFromNoise(float[] noise, int batch, int gridH, int gridW, double maskRatio);

    /** The spec this strategy is written as in configs ({@code random}, {@code block:min=16}, ...). */
    String spec();

    /**
     * A plan from a generator: the noise [batch, L] is drawn row-major with {@code nextFloat}, as random masking
     * has always drawn it, then {@link #planFromNoise}.
     */
    default MaskPlan plan(int batch, int gridH, int gridW, double maskRatio, RandomGenerator rng) {
        checkSizes(batch, gridH, gridW);
        float[] noise = new float[batch * gridH * gridW];
        for (int i = 0; i < noise.length; i++) noise[i] = rng.nextFloat();
        return planFromNoise(noise, batch, gridH, gridW, maskRatio);
    }

    /** Patches kept per image for a ratio: {@code int(L * (1 - ratio))}, as the official code. */
    static int keepCount(int patches, double maskRatio) {
        if (!(maskRatio >= 0 && maskRatio < 1)) {
            throw new IllegalArgumentException("mask ratio must be in [0, 1), got " + maskRatio);
        }
        int keep = (int) (patches * (1.0 - maskRatio));
        if (keep < 1) throw new IllegalArgumentException("mask ratio " + maskRatio + " keeps no patch of " + patches);
        return keep;
    }

    static void checkSizes(int batch, int gridH, int gridW) {
        if (batch < 1 || gridH < 1 || gridW < 1) {
            throw new IllegalArgumentException("masking needs batch >= 1 and a grid of at least 1x1 patches, got batch "
                    + batch + ", grid " + gridH + "x" + gridW);
        }
    }

    /** Checks sizes and that the noise holds one row of {@code gridH * gridW} values per image. */
    static void checkNoise(float[] noise, int batch, int gridH, int gridW) {
        checkSizes(batch, gridH, gridW);
        if (noise.length != batch * gridH * gridW) {
            throw new IllegalArgumentException("masking noise has " + noise.length + " values, expected batch x patches = "
                    + batch + " x " + gridH * gridW);
        }
    }

    /**
     * A generator for image {@code image}, seeded by {@link #rowHash}: equal rows give equal generators, and any
     * change to a row reseeds it completely.
     */
    static SplittableRandom imageRandom(float[] noise, int image, int patches) {
        return new SplittableRandom(rowHash(noise, image, patches));
    }

    /**
     * A SplitMix64 hash of the bits of image {@code image}'s noise row: a per-image seed that other per-image
     * randomness (CAE's drop-path masks) can derive its own streams from.
     */
    static long rowHash(float[] noise, int image, int patches) {
        long h = 0x6D61736B696E67L; // "masking"
        for (int j = 0, base = image * patches; j < patches; j++) {
            h = mix(h + 0x9E3779B97F4A7C15L + Float.floatToRawIntBits(noise[base + j]));
        }
        return h;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
