package org.maejvm.data;

import java.util.random.RandomGenerator;

/**
 * timm's RandomErasing as the official fine-tuning recipe uses it ({@code --reprob 0.25 --remode pixel
 * --recount 1}): with probability {@code prob}, one box of area in [0.02, 1/3] of the image and aspect ratio
 * log-uniform in [0.3, 1/0.3] (up to 10 attempts to fit) is filled with standard normal noise per pixel and
 * channel. Runs on the normalised image, as timm does after {@code Normalize}.
 */
public final class RandomErasing {
    public static final double MIN_AREA = 0.02, MAX_AREA = 1.0 / 3, MIN_ASPECT = 0.3;
    private static final int ATTEMPTS = 10;

    private final double prob;

    public RandomErasing(double prob) {
        if (!(prob >= 0 && prob <= 1)) throw new IllegalArgumentException("erasing probability must be in [0, 1], got " + prob);
        this.prob = prob;
    }

    public double probability() { return prob; }

    /** The erased box: rows {@code top .. top + height - 1}, columns {@code left .. left + width - 1}. */
    public record Box(int top, int left, int height, int width) {}

    /** Draws the box to erase in an {@code h x w} image, or null when this image is left alone. */
    public Box sample(int h, int w, RandomGenerator rng) {
        if (rng.nextDouble() > prob) return null;
        double area = (double) h * w;
        double logMin = Math.log(MIN_ASPECT), logMax = Math.log(1 / MIN_ASPECT);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            double target = (MIN_AREA + (MAX_AREA - MIN_AREA) * rng.nextDouble()) * area;
            double aspect = Math.exp(logMin + (logMax - logMin) * rng.nextDouble());
            int eh = (int) Math.round(Math.sqrt(target * aspect));
            int ew = (int) Math.round(Math.sqrt(target / aspect));
            if (ew < w && eh < h) {
                int top = rng.nextInt(h - eh + 1);
                int left = rng.nextInt(w - ew + 1);
                return new Box(top, left, eh, ew);
            }
        }
        return null;
    }

    /** Erases in place in the {@code [channels, h, w]} image at {@code data[offset ..]}; returns the box or null. */
    public Box apply(float[] data, int offset, int channels, int h, int w, RandomGenerator rng) {
        Box b = sample(h, w, rng);
        if (b == null) return null;
        for (int c = 0; c < channels; c++) {
            for (int y = b.top(); y < b.top() + b.height(); y++) {
                int row = offset + (c * h + y) * w;
                for (int x = b.left(); x < b.left() + b.width(); x++) data[row + x] = (float) rng.nextGaussian();
            }
        }
        return b;
    }
}
