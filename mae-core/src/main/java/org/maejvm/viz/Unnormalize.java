package org.maejvm.viz;

import java.util.Arrays;

/**
 * Back from the spaces the model works in towards pixels: the dataset's per-channel Normalize, and the per-patch
 * normalisation that a norm_pix_loss model's predictions live in.
 */
public final class Unnormalize {
    private Unnormalize() {}

    /** The epsilon of MAE's forward_loss: target = (t - mean) / sqrt(var + 1e-6). */
    public static final double NORM_PIX_EPS = 1e-6;

    /**
     * x * std[c] + mean[c] over images [B, C, H, W] with planes of {@code planeSize} pixels (torchvision's Normalize
     * undone), into a new array. One mean and std per channel, or a single value for every channel.
     */
    public static float[] channels(float[] imgs, int channels, int planeSize, float[] mean, float[] std) {
        if (channels < 1 || planeSize < 1 || imgs.length % ((long) channels * planeSize) != 0) {
            throw new IllegalArgumentException(imgs.length + " values are not whole images of " + channels
                    + " channel(s) x " + planeSize + " pixels");
        }
        float[] m = perChannel("mean", mean, channels), s = perChannel("std", std, channels);
        float[] out = new float[imgs.length];
        for (int plane = 0; plane < imgs.length / planeSize; plane++) {
            int c = plane % channels, base = plane * planeSize;
            for (int i = 0; i < planeSize; i++) out[base + i] = imgs[base + i] * s[c] + m[c];
        }
        return out;
    }

    /**
     * Undoes norm_pix_loss on predictions [rows, P]: each predicted patch was trained against its ORIGINAL patch
     * normalised by that patch's own mean and unbiased variance, so pred * sqrt(var + 1e-6) + mean, with mean and
     * var taken from the matching row of {@code target} (the patchified input). Without this step a norm_pix
     * model's reconstructions look like noise. Returns a new array.
     */
    public static float[] perPatch(float[] pred, float[] target, int patchDim) {
        if (pred.length != target.length) {
            throw new IllegalArgumentException("pred has " + pred.length + " values, target " + target.length
                    + "; both must be [B, L, p*p*C]");
        }
        if (patchDim < 2 || pred.length % patchDim != 0) {
            throw new IllegalArgumentException("patch dimension " + patchDim + " must be >= 2 (unbiased variance) and divide "
                    + pred.length);
        }
        float[] out = new float[pred.length];
        for (int base = 0; base < pred.length; base += patchDim) {
            double sum = 0;
            for (int k = 0; k < patchDim; k++) sum += target[base + k];
            double mean = sum / patchDim, sq = 0;
            for (int k = 0; k < patchDim; k++) {
                double d = target[base + k] - mean;
                sq += d * d;
            }
            double scale = Math.sqrt(sq / (patchDim - 1) + NORM_PIX_EPS);
            for (int k = 0; k < patchDim; k++) out[base + k] = (float) (pred[base + k] * scale + mean);
        }
        return out;
    }

    static float[] perChannel(String what, float[] values, int channels) {
        if (values == null || values.length == 0) throw new IllegalArgumentException(what + " is empty");
        if (values.length == channels) return values.clone();
        if (values.length == 1) {
            float[] out = new float[channels];
            Arrays.fill(out, values[0]);
            return out;
        }
        throw new IllegalArgumentException(what + " has " + values.length + " values; the images have " + channels
                + " channel(s): give " + channels + " value(s) or one for all");
    }
}
