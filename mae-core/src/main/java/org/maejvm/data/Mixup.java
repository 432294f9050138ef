package org.maejvm.data;

import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Mixup and CutMix with label smoothing, as timm's {@code Mixup} in batch mode (used by main_finetune.py): per batch,
 * with probability {@code prob}, either CutMix (with probability {@code switchProb}, lam ~ Beta(cutmixAlpha,
 * cutmixAlpha)) or Mixup (lam ~ Beta(mixupAlpha, mixupAlpha)) mixes each image with the image at the mirrored
 * position of the batch ({@code x.flip(0)}); the targets are the label-smoothed one-hots mixed with the same lam.
 * CutMix pastes a box of area about (1 - lam) and then corrects lam to the box's real area.
 *
 * <p>The batch size must be even, as timm asserts (use drop-last for training). Random draws come from a seeded
 * generator, so a run is reproducible; {@link #mixup} and {@link #cutmix} take lam (and the box centre) explicitly.
 */
public final class Mixup {
    /** Settings with timm's names; {@link #official} gives main_finetune.py's defaults. */
    public record Config(double mixupAlpha, double cutmixAlpha, double prob, double switchProb, double labelSmoothing,
                         int numClasses) {
        public Config {
            if (!(mixupAlpha >= 0) || !(cutmixAlpha >= 0)) {
                throw new IllegalArgumentException("mixup/cutmix alpha must be >= 0, got " + mixupAlpha + " / " + cutmixAlpha);
            }
            if (!(prob >= 0 && prob <= 1) || !(switchProb >= 0 && switchProb <= 1)) {
                throw new IllegalArgumentException("mixup prob and switch prob must be in [0, 1], got " + prob + " / " + switchProb);
            }
            if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
                throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + labelSmoothing);
            }
            if (numClasses < 1) throw new IllegalArgumentException("num_classes must be >= 1, got " + numClasses);
        }

        /** mixup 0.8, cutmix 1.0, prob 1.0, switch prob 0.5, label smoothing 0.1. */
        public static Config official(int numClasses) {
            return new Config(0.8, 1.0, 1.0, 0.5, 0.1, numClasses);
        }

        public boolean enabled() { return prob > 0 && (mixupAlpha > 0 || cutmixAlpha > 0); }
    }

    /**
     * A mixed batch: the images (a new array), the soft targets [size, classes], the lam used (after the CutMix
     * correction) and the CutMix box {@code [yl, yh, xl, xh]} (null for Mixup or no mixing).
     */
    public record Mixed(Batch batch, float[] targets, double lam, int[] box) {
        public boolean cutmix() { return box != null; }
    }

    private final Config config;
    private RandomGenerator rng;

    public Mixup(Config config, long seed) {
        this.config = config;
        this.rng = new SplittableRandom(seed);
    }

    public Config config() { return config; }

    /** Reseeds the draws (e.g. per step from the run's seed, so a resumed run mixes the same way). */
    public void reseed(long seed) { rng = new SplittableRandom(seed); }

    /** Draws this batch's mixing as timm's {@code _params_per_batch} and applies it. */
    public Mixed apply(Batch b) {
        requireEven(b);
        double lam = 1;
        boolean useCutmix = false;
        if (config.enabled() && rng.nextDouble() < config.prob()) {
            if (config.mixupAlpha() > 0 && config.cutmixAlpha() > 0) {
                useCutmix = rng.nextDouble() < config.switchProb();
                lam = beta(useCutmix ? config.cutmixAlpha() : config.mixupAlpha(), rng);
            } else if (config.mixupAlpha() > 0) {
                lam = beta(config.mixupAlpha(), rng);
            } else {
                useCutmix = true;
                lam = beta(config.cutmixAlpha(), rng);
            }
        }
        if (lam == 1) return new Mixed(b, targets(b.labels(), config.numClasses(), 1, config.labelSmoothing()), 1, null);
        if (useCutmix) return cutmix(b, lam, rng.nextInt(b.height()), rng.nextInt(b.width()));
        return mixup(b, lam);
    }

    /** Mixup with a given lam: x = lam * x + (1 - lam) * x.flip(0), targets mixed the same way. */
    public Mixed mixup(Batch b, double lam) {
        requireEven(b);
        requireLam(lam);
        float[] x = b.images(), out = new float[x.length];
        int per = b.imageSize(), n = b.size();
        float l = (float) lam, m = (float) (1 - lam); // torch multiplies float32 tensors by the scalar as float
        for (int i = 0; i < n; i++) {
            int src = i * per, flip = (n - 1 - i) * per;
            for (int j = 0; j < per; j++) out[src + j] = x[src + j] * l + x[flip + j] * m;
        }
        return new Mixed(withImages(b, out), targets(b.labels(), config.numClasses(), lam, config.labelSmoothing()), lam, null);
    }

    /**
     * CutMix with a given lam and box centre (cy, cx): timm's rand_bbox (cut size = side * sqrt(1 - lam), clipped
     * to the image), the box filled from the mirrored image, and lam corrected to 1 - box area / image area.
     */
    public Mixed cutmix(Batch b, double lam, int cy, int cx) {
        requireEven(b);
        requireLam(lam);
        int h = b.height(), w = b.width();
        if (cy < 0 || cy >= h || cx < 0 || cx >= w) {
            throw new IllegalArgumentException("cutmix box centre (" + cy + ", " + cx + ") is outside the " + h + "x" + w + " image");
        }
        int[] box = box(h, w, lam, cy, cx);
        double corrected = 1 - (double) (box[1] - box[0]) * (box[3] - box[2]) / ((double) h * w);
        float[] x = b.images(), out = x.clone();
        int per = b.imageSize(), n = b.size(), c = b.channels();
        for (int i = 0; i < n; i++) {
            int dst = i * per, flip = (n - 1 - i) * per;
            for (int ch = 0; ch < c; ch++) {
                for (int y = box[0]; y < box[1]; y++) {
                    int row = ch * h * w + y * w;
                    System.arraycopy(x, flip + row + box[2], out, dst + row + box[2], box[3] - box[2]);
                }
            }
        }
        return new Mixed(withImages(b, out), targets(b.labels(), config.numClasses(), corrected, config.labelSmoothing()),
                corrected, box);
    }

    /** timm's rand_bbox with the centre given: {@code [yl, yh, xl, xh]}, half-open. */
    static int[] box(int h, int w, double lam, int cy, int cx) {
        double ratio = Math.sqrt(1 - lam);
        int cutH = (int) (h * ratio), cutW = (int) (w * ratio);
        return new int[] {clip(cy - cutH / 2, h), clip(cy + cutH / 2, h), clip(cx - cutW / 2, w), clip(cx + cutW / 2, w)};
    }

    /**
     * timm's mixup_target: label-smoothed one-hots (off = smoothing / classes, on = 1 - smoothing + off) of the
     * labels, times lam, plus those of the flipped labels times (1 - lam). Row-major [labels.length, classes].
     */
    public static float[] targets(int[] labels, int classes, double lam, double smoothing) {
        double off = smoothing / classes, on = 1 - smoothing + off;
        int n = labels.length;
        float[] t = new float[n * classes];
        for (int i = 0; i < n; i++) {
            int a = checkLabel(labels[i], classes), b = checkLabel(labels[n - 1 - i], classes);
            for (int k = 0; k < classes; k++) {
                double ya = k == a ? on : off, yb = k == b ? on : off;
                t[i * classes + k] = (float) (ya * lam + yb * (1 - lam));
            }
        }
        return t;
    }

    /** Label-smoothed one-hot targets (no mixing): the targets of timm's LabelSmoothingCrossEntropy. */
    public static float[] smoothedOneHot(int[] labels, int classes, double smoothing) {
        return targets(labels, classes, 1, smoothing);
    }

    /** A draw from Beta(alpha, alpha) as numpy's: X / (X + Y) with X, Y ~ Gamma(alpha). */
    static double beta(double alpha, RandomGenerator rng) {
        double x = gamma(alpha, rng), y = gamma(alpha, rng);
        return x + y == 0 ? 0.5 : x / (x + y);
    }

    /** Gamma(shape, 1) by Marsaglia and Tsang; shape < 1 boosted by U^(1/shape). */
    static double gamma(double shape, RandomGenerator rng) {
        if (shape < 1) return gamma(shape + 1, rng) * Math.pow(rng.nextDouble(), 1 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.sqrt(9 * d);
        while (true) {
            double z, v;
            do {
                z = rng.nextGaussian();
                v = 1 + c * z;
            } while (v <= 0);
            v = v * v * v;
            double u = rng.nextDouble();
            if (u < 1 - 0.0331 * z * z * z * z || Math.log(u) < 0.5 * z * z + d * (1 - v + Math.log(v))) return d * v;
        }
    }

    private static int clip(int v, int hi) {
        return Math.max(0, Math.min(v, hi));
    }

    private static int checkLabel(int label, int classes) {
        if (label < 0 || label >= classes) {
            throw new IllegalArgumentException("label " + label + " is outside [0, " + classes + ")");
        }
        return label;
    }

    private static void requireEven(Batch b) {
        if (b.size() % 2 != 0) {
            throw new IllegalArgumentException("Mixup/CutMix needs an even batch size (images are paired with the mirrored batch), got "
                    + b.size() + "; drop the last incomplete batch");
        }
    }

    private static void requireLam(double lam) {
        if (!(lam >= 0 && lam <= 1)) throw new IllegalArgumentException("lam must be in [0, 1], got " + lam);
    }

    private static Batch withImages(Batch b, float[] images) {
        return new Batch(images, b.size(), b.channels(), b.height(), b.width(), b.labels(), b.indices());
    }
}
