package org.maejvm.data;

import java.util.random.RandomGenerator;

/**
 * Crop parameters of torchvision's {@code RandomResizedCrop.get_params}: up to 10 attempts of an area fraction
 * drawn uniformly from {@code scale} and an aspect ratio drawn log-uniformly from {@code ratio}; the first
 * attempt that fits gets a uniform position; if none fits, a centre crop clamped to the ratio range.
 */
public record RandomResizedCrop(double minScale, double maxScale, double minRatio, double maxRatio) {
    /** The official MAE pretraining setting: scale (0.2, 1.0), ratio (3/4, 4/3). */
    public static final RandomResizedCrop MAE_PRETRAIN = new RandomResizedCrop(0.2, 1.0, 3.0 / 4.0, 4.0 / 3.0);
    /** torchvision's defaults: scale (0.08, 1.0), ratio (3/4, 4/3). */
    public static final RandomResizedCrop TORCHVISION_DEFAULT = new RandomResizedCrop(0.08, 1.0, 3.0 / 4.0, 4.0 / 3.0);

    private static final int ATTEMPTS = 10;

    public RandomResizedCrop {
        if (!(minScale > 0 && minScale <= maxScale && maxScale <= 1.0)) {
            throw new IllegalArgumentException("scale range must satisfy 0 < min <= max <= 1, got ("
                    + minScale + ", " + maxScale + ")");
        }
        if (!(minRatio > 0 && minRatio <= maxRatio && Double.isFinite(maxRatio))) {
            throw new IllegalArgumentException("ratio range must satisfy 0 < min <= max, got ("
                    + minRatio + ", " + maxRatio + ")");
        }
    }

    /** Draws a crop box for an image of {@code height x width}. */
    public CropBox sample(int height, int width, RandomGenerator rng) {
        double area = (double) height * width;
        double logMin = Math.log(minRatio);
        double logMax = Math.log(maxRatio);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            double targetArea = area * uniform(rng, minScale, maxScale);
            double aspect = Math.exp(uniform(rng, logMin, logMax));
            // Python's round() rounds halves to even, as Math.rint does.
            int w = (int) Math.rint(Math.sqrt(targetArea * aspect));
            int h = (int) Math.rint(Math.sqrt(targetArea / aspect));
            if (w > 0 && w <= width && h > 0 && h <= height) {
                int top = rng.nextInt(height - h + 1);
                int left = rng.nextInt(width - w + 1);
                return new CropBox(top, left, h, w);
            }
        }
        return fallback(height, width);
    }

    /** The centre crop used when all attempts fail. */
    CropBox fallback(int height, int width) {
        double inRatio = (double) width / height;
        int w;
        int h;
        if (inRatio < minRatio) {
            w = width;
            h = (int) Math.rint(w / minRatio);
        } else if (inRatio > maxRatio) {
            h = height;
            w = (int) Math.rint(h * maxRatio);
        } else {
            w = width;
            h = height;
        }
        // Very thin images can round to 0; keep at least one pixel so the crop stays valid.
        h = Math.max(1, Math.min(h, height));
        w = Math.max(1, Math.min(w, width));
        return new CropBox((height - h) / 2, (width - w) / 2, h, w);
    }

    private static double uniform(RandomGenerator rng, double lo, double hi) {
        return lo + (hi - lo) * rng.nextDouble();
    }
}
