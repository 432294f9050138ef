package org.maejvm.data;

/** One decoded dataset item: the image and its class id ({@code -1} when the dataset has no labels). */
public record Sample(FloatImage image, int label) {
    public Sample {
        if (image == null) throw new IllegalArgumentException("sample image must not be null");
        if (label < -1) throw new IllegalArgumentException("label must be >= -1 (-1 = unlabelled), got " + label);
    }
}
