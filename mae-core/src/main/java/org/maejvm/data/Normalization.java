package org.maejvm.data;

import java.util.Arrays;

/**
 * Per-channel mean and standard deviation for {@code (x - mean[c]) / std[c]}, like torchvision's {@code Normalize}.
 */
public record Normalization(float[] mean, float[] std) {
    /** ImageNet statistics, what the official MAE scripts use for RGB input. */
    public static final Normalization IMAGENET =
            new Normalization(new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});
    /** Fashion-MNIST training-set statistics (1 channel). */
    public static final Normalization FASHION_MNIST = of(0.2860f, 0.3530f);
    /** MNIST training-set statistics (1 channel). */
    public static final Normalization MNIST = of(0.1307f, 0.3081f);
    /** Maps [0, 1] to [-1, 1] for 1-channel data whose statistics are unknown. */
    public static final Normalization HALF = of(0.5f, 0.5f);

    public Normalization {
        if (mean == null || std == null || mean.length == 0 || mean.length != std.length) {
            throw new IllegalArgumentException("mean and std need the same non-zero length, got "
                    + Arrays.toString(mean) + " and " + Arrays.toString(std));
        }
        for (int c = 0; c < std.length; c++) {
            if (!(std[c] > 0f) || !Float.isFinite(std[c]) || !Float.isFinite(mean[c])) {
                throw new IllegalArgumentException("std must be finite and > 0 and mean finite, channel " + c
                        + ": mean=" + mean[c] + " std=" + std[c]);
            }
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** A 1-channel normalisation. */
    public static Normalization of(float mean, float std) {
        return new Normalization(new float[] {mean}, new float[] {std});
    }

    /** The default when a dataset does not know its own statistics: ImageNet for RGB, (0.5, 0.5) for gray. */
    public static Normalization defaultFor(int channels) {
        return switch (channels) {
            case 3 -> IMAGENET;
            case 1 -> HALF;
            default -> {
                float[] half = new float[channels];
                Arrays.fill(half, 0.5f);
                yield new Normalization(half, half);
            }
        };
    }

    public int channels() {
        return mean.length;
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    /** Normalises {@code channels} planes of {@code planeSize} floats starting at {@code offset}, in place. */
    public void applyInPlace(float[] data, int offset, int channels, int planeSize) {
        requireChannels(channels);
        for (int c = 0; c < channels; c++) {
            float m = mean[c];
            float inv = 1f / std[c];
            int base = offset + c * planeSize;
            for (int i = 0; i < planeSize; i++) data[base + i] = (data[base + i] - m) * inv;
        }
    }

    /** Mean of channel {@code c} (no copy, for the hot loops in this package). */
    float meanAt(int c) {
        return mean[c];
    }

    /** 1 / std of channel {@code c}. */
    float invStdAt(int c) {
        return 1f / std[c];
    }

    void requireChannels(int channels) {
        if (channels != mean.length) {
            throw new IllegalArgumentException("normalisation has " + mean.length + " channel(s) but the image has "
                    + channels + "; pass a " + channels + "-channel mean/std");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Normalization n && Arrays.equals(mean, n.mean) && Arrays.equals(std, n.std);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std);
    }

    @Override
    public String toString() {
        return "Normalization[mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + "]";
    }
}
