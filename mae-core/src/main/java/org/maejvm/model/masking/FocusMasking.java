package org.maejvm.model.masking;

import java.util.Arrays;
import java.util.Locale;
import java.util.random.RandomGenerator;
import org.maejvm.model.MaskPlan;

/**
 * Weighted random masking: the {@code int(L * ratio)} removed patches of each image are a multinomial draw
 * without replacement with probabilities proportional to per-patch weights ({@code torch.multinomial(w, n,
 * replacement=False)}), so patches inside a focus region are masked more often (weight > 1) or less often
 * (weight < 1) than the rest. Sampled with Efraimidis-Spirakis keys: the n patches with the smallest
 * {@code -ln(u) / w} are exactly a sequential draw proportional to the remaining weights, where u is the image's
 * row of the masking noise (so with equal weights this is random masking). A patch of weight 0 is masked only when
 * the positive-weight patches do not suffice.
 *
 * <p>The weights come from a box in image fractions (x0, y0, x1, y1; a patch is inside when its centre is) with
 * one weight inside and 1 outside, or from a whole weight map.
 */
public final class FocusMasking implements MaskingStrategy {
    private final double[] box;      // x0, y0, x1, y1 in [0, 1], or null with a weight map
    private final double weight;     // inside the box
    private final float[] weightMap; // row-major [gridH * gridW], or null with a box

    private FocusMasking(double[] box, double weight, float[] weightMap) {
        this.box = box;
        this.weight = weight;
        this.weightMap = weightMap;
    }

    /** Patches whose centre lies in the box (fractions of the image, x to the right, y down) get {@code weight}. */
    public static FocusMasking box(double x0, double y0, double x1, double y1, double weight) {
        if (!(0 <= x0 && x0 < x1 && x1 <= 1 && 0 <= y0 && y0 < y1 && y1 <= 1)) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "focus box must satisfy 0 <= x0 < x1 <= 1 and"
                    + " 0 <= y0 < y1 <= 1 (fractions of the image), got x0=%s y0=%s x1=%s y1=%s", x0, y0, x1, y1));
        }
        if (!(weight >= 0 && Double.isFinite(weight))) {
            throw new IllegalArgumentException("focus weight must be a finite number >= 0, got " + weight);
        }
        return new FocusMasking(new double[] {x0, y0, x1, y1}, weight, null);
    }

    /** The default focus: the central half of the image (0.25..0.75 both ways) masked with weight 3. */
    public static FocusMasking centre() { return box(0.25, 0.25, 0.75, 0.75, 3.0); }

    /** An explicit weight per patch, row-major over the patch grid; non-negative with at least one positive. */
    public static FocusMasking weights(float[] weightMap) {
        boolean positive = false;
        for (int i = 0; i < weightMap.length; i++) {
            float w = weightMap[i];
            if (!(w >= 0) || !Float.isFinite(w)) {
                throw new IllegalArgumentException("focus weight map entry " + i + " must be finite and >= 0, got " + w);
            }
            positive |= w > 0;
        }
        if (!positive) throw new IllegalArgumentException("focus weight map needs at least one positive weight");
        return new FocusMasking(null, 0, weightMap.clone());
    }

    /** The per-patch weights for a grid. */
    public float[] weightsFor(int gridH, int gridW) {
        if (weightMap != null) {
            if (weightMap.length != gridH * gridW) {
                throw new IllegalArgumentException("focus weight map has " + weightMap.length + " entries, the patch grid "
                        + gridH + "x" + gridW + " has " + gridH * gridW);
            }
            return weightMap.clone();
        }
        float[] w = new float[gridH * gridW];
        for (int i = 0; i < gridH; i++) {
            double cy = (i + 0.5) / gridH;
            for (int j = 0; j < gridW; j++) {
                double cx = (j + 0.5) / gridW;
                boolean inside = cx >= box[0] && cx < box[2] && cy >= box[1] && cy < box[3];
                w[i * gridW + j] = inside ? (float) weight : 1f;
            }
        }
        return w;
    }

    @Override
    public MaskPlan planFromNoise(float[] noise, int batch, int gridH, int gridW, double maskRatio) {
        MaskingStrategy.checkNoise(noise, batch, gridH, gridW);
        int patches = gridH * gridW;
        int count = patches - MaskingStrategy.keepCount(patches, maskRatio);
        float[] w = weightsFor(gridH, gridW);
        boolean[] masked = new boolean[batch * patches];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(sample(w, count, noise, b * patches), 0, masked, b * patches, patches);
        }
        return MaskPlan.fromMasked(masked, batch, patches);
    }

    /** One image: {@code count} patches drawn without replacement proportionally to {@code w}, from fresh uniforms. */
    public static boolean[] sample(float[] w, int count, RandomGenerator rng) {
        float[] u = new float[w.length];
        for (int i = 0; i < u.length; i++) u[i] = rng.nextFloat();
        return sample(w, count, u, 0);
    }

    /**
     * One image from its noise row {@code u[offset .. offset + w.length)}: Efraimidis-Spirakis keys
     * {@code -ln(u) / w} (Exp(w) variables), the {@code count} smallest masked. With equal weights the masked set is
     * that of random masking on the same row (the largest noise values); weight-0 patches (key infinite) come last,
     * ordered by their noise in the same way.
     */
    public static boolean[] sample(float[] w, int count, float[] u, int offset) {
        int n = w.length;
        if (count < 0 || count > n) throw new IllegalArgumentException("cannot mask " + count + " of " + n + " patches");
        double[] key = new double[n];
        for (int i = 0; i < n; i++) key[i] = w[i] > 0 ? -Math.log(u[offset + i]) / w[i] : Double.POSITIVE_INFINITY;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> key[a] != key[b] ? Double.compare(key[a], key[b])
                : Float.compare(u[offset + b], u[offset + a]));
        boolean[] masked = new boolean[n];
        for (int k = 0; k < count; k++) masked[order[k]] = true;
        return masked;
    }

    @Override
    public String spec() {
        if (box == null) return "focus:map";
        return String.format(Locale.ROOT, "focus:x0=%s,y0=%s,x1=%s,y1=%s,weight=%s", box[0], box[1], box[2], box[3], weight);
    }

    @Override
    public String toString() { return spec(); }
}
