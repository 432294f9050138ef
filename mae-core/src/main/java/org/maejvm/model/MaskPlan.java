package org.maejvm.model;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Which patches each image keeps, in the contract of MAE's {@code random_masking}: per image, ids_shuffle orders
 * patches by ascending noise, the first {@code keep} are visible, ids_restore = argsort(ids_shuffle) undoes the
 * shuffle, and mask is 1 for removed patches, 0 for kept ones, in the original patch order.
 */
public record MaskPlan(int batch, int patches, int keep, int[] idsShuffle, int[] idsRestore, float[] mask) {

    /** MAE's random masking from given uniform noise [batch, patches]; keep = int(L * (1 - maskRatio)). */
    public static MaskPlan random(float[] noise, int batch, int patches, double maskRatio) {
        if (!(maskRatio >= 0 && maskRatio < 1)) {
            throw new IllegalArgumentException("mask ratio must be in [0, 1), got " + maskRatio);
        }
        if (noise.length != batch * patches) {
            throw new IllegalArgumentException("noise has " + noise.length + " values, expected batch x patches = "
                    + batch + " x " + patches);
        }
        int keep = (int) (patches * (1.0 - maskRatio));
        if (keep < 1) throw new IllegalArgumentException("mask ratio " + maskRatio + " keeps no patch of " + patches);
        int[] shuffle = new int[batch * patches];
        for (int b = 0; b < batch; b++) {
            int base = b * patches;
            // Stable sort by noise: ties (never seen with continuous noise) keep patch order.
            Integer[] order = IntStream.range(0, patches).boxed().toArray(Integer[]::new);
            Arrays.sort(order, Comparator.comparingDouble(i -> noise[base + i]));
            for (int j = 0; j < patches; j++) shuffle[base + j] = order[j];
        }
        return fromShuffle(shuffle, batch, patches, keep);
    }

    /** No masking: every patch kept in its own order (the encode path for downstream use). */
    public static MaskPlan none(int batch, int patches) {
        int[] shuffle = new int[batch * patches];
        for (int b = 0; b < batch; b++) for (int j = 0; j < patches; j++) shuffle[b * patches + j] = j;
        return fromShuffle(shuffle, batch, patches, patches);
    }

    /** Builds ids_restore and mask from a per-image permutation whose first {@code keep} entries are visible. */
    public static MaskPlan fromShuffle(int[] idsShuffle, int batch, int patches, int keep) {
        int[] restore = new int[batch * patches];
        float[] mask = new float[batch * patches];
        for (int b = 0; b < batch; b++) {
            int base = b * patches;
            boolean[] seen = new boolean[patches];
            for (int j = 0; j < patches; j++) {
                int p = idsShuffle[base + j];
                if (p < 0 || p >= patches || seen[p]) {
                    throw new IllegalArgumentException("ids_shuffle of image " + b + " is not a permutation of 0.." + (patches - 1));
                }
                seen[p] = true;
                restore[base + p] = j;
                mask[base + p] = j < keep ? 0f : 1f;
            }
        }
        return new MaskPlan(batch, patches, keep, idsShuffle, restore, mask);
    }

    /**
     * A plan from per-image masks (true = removed), [batch, patches]: every image must remove the same number of
     * patches, because the batched encoder takes the same count of visible tokens from each. ids_shuffle lists the
     * kept patches in ascending order, then the removed ones in ascending order (the order of a boolean index).
     */
    public static MaskPlan fromMasked(boolean[] masked, int batch, int patches) {
        if (masked.length != batch * patches) {
            throw new IllegalArgumentException("mask has " + masked.length + " entries, expected batch x patches = "
                    + batch + " x " + patches);
        }
        int removed = -1;
        int[] shuffle = new int[batch * patches];
        for (int b = 0; b < batch; b++) {
            int base = b * patches, count = 0;
            for (int j = 0; j < patches; j++) if (masked[base + j]) count++;
            if (removed >= 0 && count != removed) {
                throw new IllegalArgumentException("image " + b + " masks " + count + " patches, image 0 masks " + removed
                        + ": a batch needs the same count in every image");
            }
            removed = count;
            int kept = 0, gone = patches - count;
            for (int j = 0; j < patches; j++) {
                if (masked[base + j]) shuffle[base + gone++] = j;
                else shuffle[base + kept++] = j;
            }
        }
        int keep = patches - removed;
        if (keep < 1) throw new IllegalArgumentException("the mask removes every one of the " + patches + " patches");
        return fromShuffle(shuffle, batch, patches, keep);
    }

    /** Removed patch ids per image in ids_shuffle order, [batch, patches - keep]. */
    public int[] idsMasked() {
        int m = patches - keep;
        int[] out = new int[batch * m];
        for (int b = 0; b < batch; b++) System.arraycopy(idsShuffle, b * patches + keep, out, b * m, m);
        return out;
    }

    /** Visible patch ids per image, [batch, keep]. */
    public int[] idsKeep() {
        int[] out = new int[batch * keep];
        for (int b = 0; b < batch; b++) System.arraycopy(idsShuffle, b * patches, out, b * keep, keep);
        return out;
    }
}
