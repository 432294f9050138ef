package org.maejvm.data;

import java.util.SplittableRandom;

/**
 * Derives independent random streams from (seed, epoch, index) by hashing, so every sample's augmentation and
 * every epoch's shuffle are fixed by the seed alone, whichever thread does the work and in whatever order.
 */
public final class Seeds {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private static final long SAMPLE_STREAM = 0x5A4D504C45L; // "SMPLE": the per-sample augmentation stream
    private static final long SHUFFLE_STREAM = 0x5348554646L; // "SHUFF": the per-epoch permutation stream

    private Seeds() {}

    /** SplitMix64's finaliser (Stafford's mix 13): a bijective 64-bit hash with good avalanche. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Hashes the parts in order; a different order or any different part gives an unrelated value. */
    public static long derive(long seed, long... parts) {
        long h = mix(seed + GOLDEN);
        for (long p : parts) h = mix(h + GOLDEN + mix(p));
        return h;
    }

    /** The generator for augmenting dataset item {@code index} in {@code epoch}. */
    public static SplittableRandom forSample(long seed, int epoch, int index) {
        return new SplittableRandom(derive(seed, SAMPLE_STREAM, epoch, index));
    }

    /** The generator for shuffling {@code epoch}. */
    public static SplittableRandom forShuffle(long seed, int epoch) {
        return new SplittableRandom(derive(seed, SHUFFLE_STREAM, epoch));
    }
}
