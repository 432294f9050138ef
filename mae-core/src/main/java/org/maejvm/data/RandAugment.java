package org.maejvm.data;

import java.util.List;
import java.util.Locale;
import java.util.random.RandomGenerator;

/**
 * timm's RandAugment as the official fine-tuning recipe configures it ({@code --aa rand-m9-mstd0.5-inc1}):
 * {@code num_ops} ops (2) drawn uniformly with replacement from the "increasing" op list, each applied with
 * probability 0.5 at magnitude {@code gauss(m, mstd)} clipped to [0, 10], mapped to its argument by timm's level
 * functions (signed ones negated with probability 0.5). Geometric ops fill with the data's mean colour and
 * resample bicubic, as timm's {@code create_transform} sets them. Works on 8-bit images ({@link Image8}).
 */
public final class RandAugment {
    /** timm's _LEVEL_DENOM: magnitudes are on a 0..10 scale. */
    public static final double LEVEL_DENOM = 10.0;
    /** timm's default translate_pct. */
    public static final double TRANSLATE_PCT = 0.45;

    /** The ops of timm's _RAND_INCREASING_TRANSFORMS, in its order. */
    public enum Op {
        AUTO_CONTRAST, EQUALIZE, INVERT, ROTATE, POSTERIZE_INCREASING, SOLARIZE_INCREASING, SOLARIZE_ADD,
        COLOR_INCREASING, CONTRAST_INCREASING, BRIGHTNESS_INCREASING, SHARPNESS_INCREASING, SHEAR_X, SHEAR_Y,
        TRANSLATE_X_REL, TRANSLATE_Y_REL;

        /**
         * The op at {@code magnitude} (0..10); {@code negate} is the random sign of the signed ops (rotate, shear,
         * translate and the enhance factors 1 +/- level).
         */
        public Image8 apply(Image8 img, double magnitude, boolean negate, int[] fill) {
            double level = magnitude / LEVEL_DENOM;
            double sign = negate ? -1 : 1;
            return switch (this) {
                case AUTO_CONTRAST -> PilOps.autocontrast(img);
                case EQUALIZE -> PilOps.equalize(img);
                case INVERT -> PilOps.invert(img);
                case ROTATE -> PilOps.rotate(img, sign * level * 30.0, fill);
                case POSTERIZE_INCREASING -> PilOps.posterize(img, 4 - (int) (level * 4));
                case SOLARIZE_INCREASING -> PilOps.solarize(img, 256 - (int) (level * 256));
                case SOLARIZE_ADD -> PilOps.solarizeAdd(img, (int) (level * 110), 128);
                case COLOR_INCREASING -> PilOps.color(img, 1.0 + sign * level * 0.9);
                case CONTRAST_INCREASING -> PilOps.contrast(img, 1.0 + sign * level * 0.9);
                case BRIGHTNESS_INCREASING -> PilOps.brightness(img, 1.0 + sign * level * 0.9);
                case SHARPNESS_INCREASING -> PilOps.sharpness(img, 1.0 + sign * level * 0.9);
                case SHEAR_X -> PilOps.shearX(img, sign * level * 0.3, fill);
                case SHEAR_Y -> PilOps.shearY(img, sign * level * 0.3, fill);
                case TRANSLATE_X_REL -> PilOps.translateXRel(img, sign * level * TRANSLATE_PCT, fill);
                case TRANSLATE_Y_REL -> PilOps.translateYRel(img, sign * level * TRANSLATE_PCT, fill);
            };
        }

        /** Whether the op's argument has a random sign (timm's _randomly_negate). */
        public boolean signed() {
            return switch (this) {
                case ROTATE, COLOR_INCREASING, CONTRAST_INCREASING, BRIGHTNESS_INCREASING, SHARPNESS_INCREASING,
                     SHEAR_X, SHEAR_Y, TRANSLATE_X_REL, TRANSLATE_Y_REL -> true;
                default -> false;
            };
        }
    }

    private static final List<Op> OPS = List.of(Op.values());

    private final int numOps;
    private final double magnitude;
    private final double magnitudeStd;
    private final double prob;
    private final int[] fill;

    /**
     * @param fill the fill value per channel of geometric ops (timm: {@code round(255 * mean)} of the normalisation)
     */
    public RandAugment(int numOps, double magnitude, double magnitudeStd, double prob, int[] fill) {
        if (numOps < 0) throw new IllegalArgumentException("RandAugment num_ops must be >= 0, got " + numOps);
        if (!(magnitude >= 0 && magnitude <= LEVEL_DENOM)) {
            throw new IllegalArgumentException("RandAugment magnitude must be in [0, 10], got " + magnitude);
        }
        if (!(magnitudeStd >= 0)) throw new IllegalArgumentException("magnitude std must be >= 0, got " + magnitudeStd);
        if (!(prob >= 0 && prob <= 1)) throw new IllegalArgumentException("op probability must be in [0, 1], got " + prob);
        this.numOps = numOps;
        this.magnitude = magnitude;
        this.magnitudeStd = magnitudeStd;
        this.prob = prob;
        this.fill = fill.clone();
    }

    /** {@code rand-m9-mstd0.5-inc1}: 2 ops, magnitude 9 +/- 0.5, probability 0.5, filled with {@code mean}. */
    public static RandAugment official(Normalization mean) {
        float[] m = mean.mean();
        int[] fill = new int[m.length];
        for (int c = 0; c < m.length; c++) fill[c] = Math.min(255, Math.round(255 * m[c]));
        return new RandAugment(2, 9, 0.5, 0.5, fill);
    }

    /** Parses timm's config string, e.g. {@code rand-m9-mstd0.5-inc1} (only the increasing op list is built). */
    public static RandAugment parse(String spec, Normalization mean) {
        String[] parts = spec.toLowerCase(Locale.ROOT).split("-");
        if (parts.length == 0 || !parts[0].equals("rand")) {
            throw new IllegalArgumentException("unknown augmentation '" + spec + "'; expected e.g. rand-m9-mstd0.5-inc1");
        }
        RandAugment base = official(mean);
        int n = base.numOps;
        double m = base.magnitude, std = base.magnitudeStd;
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i];
            try {
                if (p.startsWith("mstd")) std = Double.parseDouble(p.substring(4));
                else if (p.startsWith("m")) m = Double.parseDouble(p.substring(1));
                else if (p.startsWith("n")) n = Integer.parseInt(p.substring(1));
                else if (p.startsWith("inc")) {
                    if (!p.equals("inc1")) throw new IllegalArgumentException("only inc1 (the increasing ops) is supported, got " + p);
                } else throw new IllegalArgumentException("unknown RandAugment part '" + p + "' in " + spec);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad number in RandAugment part '" + p + "' of " + spec);
            }
        }
        return new RandAugment(n, m, std, 0.5, base.fill);
    }

    /** Applies {@code numOps} random ops; every random choice comes from {@code rng}. */
    public Image8 apply(Image8 img, RandomGenerator rng) {
        for (int i = 0; i < numOps; i++) {
            Op op = OPS.get(rng.nextInt(OPS.size()));
            if (prob < 1.0 && rng.nextDouble() > prob) continue;
            double m = magnitudeStd > 0 ? magnitude + magnitudeStd * rng.nextGaussian() : magnitude;
            m = Math.max(0.0, Math.min(m, LEVEL_DENOM));
            boolean negate = op.signed() && rng.nextDouble() > 0.5;
            img = op.apply(img, m, negate, fill);
        }
        return img;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "RandAugment[n=%d, m=%s, mstd=%s, p=%s]", numOps, magnitude, magnitudeStd, prob);
    }
}
