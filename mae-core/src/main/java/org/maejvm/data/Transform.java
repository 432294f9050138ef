package org.maejvm.data;

import java.util.random.RandomGenerator;

/**
 * Turns a decoded image into a fixed-size network input. The random choices come only from {@code rng}, which
 * the loader derives from (seed, epoch, sample index), so results do not depend on thread scheduling.
 */
public interface Transform {
    int outputHeight();

    int outputWidth();

    /** Writes {@code image.channels() x outputHeight() x outputWidth()} floats to {@code dst[offset ..]}. */
    void apply(FloatImage image, RandomGenerator rng, float[] dst, int offset);

    /** Fails early, with a clear message, when this transform cannot handle images of {@code channels} channels. */
    default void checkChannels(int channels) {}

    /** Convenience: the transformed image as a new {@link FloatImage}. */
    default FloatImage apply(FloatImage image, RandomGenerator rng) {
        float[] out = new float[image.channels() * outputHeight() * outputWidth()];
        apply(image, rng, out, 0);
        return new FloatImage(out, image.channels(), outputHeight(), outputWidth());
    }
}
