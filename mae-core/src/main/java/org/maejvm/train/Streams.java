package org.maejvm.train;

/** Random streams derived by hashing (seed, purpose, counters), so no generator state needs saving for resume. */
final class Streams {
    static final long NOISE = 0x4E4F495345L;   // "NOISE": masking noise per global step
    static final long SHUFFLE = 0x5348554646L; // "SHUFF": in-memory epoch order
    static final long DROP_PATH = 0x4450415448L; // "DPATH": CAE's stochastic-depth masks, per image
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private Streams() {}

    /** SplitMix64's finaliser: a bijective 64-bit mix with good avalanche. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static long derive(long seed, long... parts) {
        long h = mix(seed + GOLDEN);
        for (long p : parts) h = mix(h + GOLDEN + mix(p));
        return h;
    }
}
