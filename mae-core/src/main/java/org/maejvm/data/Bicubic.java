package org.maejvm.data;

/**
 * Bicubic resampling with PIL's semantics ({@code Image.resize(..., BICUBIC)} on a float image, Pillow's
 * {@code Resample.c}): cubic convolution with a = -0.5, whose support widens by the scale factor when
 * shrinking (so downsampling is antialiased), weights normalised to sum 1 per output pixel, the horizontal pass
 * first with a float intermediate, accumulation in double, no rounding or clamping.
 *
 * <p>The input may be a crop of a larger image: the crop is treated as the whole image (edge taps are clipped
 * at the crop border, as after {@code img.crop(box)}). The output may be a window of the resized image (what a
 * centre crop after a resize keeps), a horizontal flip of it, and normalised on the way out.
 */
public final class Bicubic {
    private static final double A = -0.5;
    private static final double SUPPORT = 2.0;

    private Bicubic() {}

    /** Pillow's bicubic kernel. */
    static double kernel(double x) {
        if (x < 0.0) x = -x;
        if (x < 1.0) return ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
        if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * A;
        return 0.0;
    }

    /**
     * Filter taps of one axis: output pixel {@code i} reads {@code count[i]} input pixels from {@code first[i]},
     * with weights {@code weight[i * taps ..]}.
     */
    record Taps(int[] first, int[] count, double[] weight, int taps) {
        /** True when this axis maps every output pixel to the same input pixel with weight 1. */
        boolean isIdentity(int inSize) {
            if (first.length != inSize) return false;
            for (int i = 0; i < inSize; i++) {
                for (int k = 0; k < count[i]; k++) {
                    double expected = (first[i] + k == i) ? 1.0 : 0.0;
                    if (weight[i * taps + k] != expected) return false;
                }
            }
            return true;
        }
    }

    /** Taps for resizing an axis of {@code inSize} pixels to {@code outSize} (Pillow's precompute_coeffs). */
    static Taps taps(int inSize, int outSize) {
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = SUPPORT * filterScale;
        int taps = (int) Math.ceil(support) * 2 + 1;
        int[] first = new int[outSize];
        int[] count = new int[outSize];
        double[] weight = new double[outSize * taps];
        double invFilterScale = 1.0 / filterScale;
        for (int i = 0; i < outSize; i++) {
            double center = (i + 0.5) * scale;
            // (int) truncates like the C cast; negative starts are clamped to 0 right after.
            int lo = Math.max((int) (center - support + 0.5), 0);
            int hi = Math.min((int) (center + support + 0.5), inSize);
            int n = hi - lo;
            double sum = 0.0;
            int base = i * taps;
            for (int k = 0; k < n; k++) {
                double w = kernel((k + lo - center + 0.5) * invFilterScale);
                weight[base + k] = w;
                sum += w;
            }
            if (sum != 0.0) {
                for (int k = 0; k < n; k++) weight[base + k] /= sum;
            }
            first[i] = lo;
            count[i] = n;
        }
        return new Taps(first, count, weight, taps);
    }

    /** Resizes a whole image to {@code outHeight x outWidth}. */
    public static FloatImage resize(FloatImage src, int outHeight, int outWidth) {
        float[] dst = new float[src.channels() * outHeight * outWidth];
        resample(src, 0, 0, src.height(), src.width(), outHeight, outWidth,
                0, 0, outHeight, outWidth, false, null, dst, 0);
        return new FloatImage(dst, src.channels(), outHeight, outWidth);
    }

    /**
     * The general form: crop {@code (top, left, cropH, cropW)} of {@code src}, resize it to
     * {@code resizedH x resizedW}, keep the window {@code (winTop, winLeft, winH, winW)} of that, optionally flip it
     * left-right and normalise it, writing {@code channels x winH x winW} floats at {@code dst[dstOffset]}.
     * Only the output pixels inside the window are computed.
     */
    public static void resample(FloatImage src, int top, int left, int cropH, int cropW,
                                int resizedH, int resizedW,
                                int winTop, int winLeft, int winH, int winW,
                                boolean flip, Normalization norm, float[] dst, int dstOffset) {
        checkBox("crop", top, left, cropH, cropW, src.height(), src.width());
        checkBox("window", winTop, winLeft, winH, winW, resizedH, resizedW);
        int channels = src.channels();
        if (norm != null) norm.requireChannels(channels);
        if (dstOffset < 0 || (long) dstOffset + (long) channels * winH * winW > dst.length) {
            throw new IllegalArgumentException("destination of " + dst.length + " floats cannot hold "
                    + channels + "x" + winH + "x" + winW + " floats at offset " + dstOffset);
        }
        Taps horiz = taps(cropW, resizedW);
        Taps vert = taps(cropH, resizedH);

        // Source rows the vertical pass reads for the window's rows.
        int rowFirst = vert.first[winTop];
        int rowEnd = rowFirst;
        for (int y = winTop; y < winTop + winH; y++) rowEnd = Math.max(rowEnd, vert.first[y] + vert.count[y]);
        int rows = rowEnd - rowFirst;

        float[] in = src.data();
        int srcW = src.width();
        int srcPlane = src.planeSize();
        // Same size in and out gives taps (0, 1, 0, 0) exactly, so that pass is a copy (Pillow skips it too).
        boolean horizIdentity = cropW == resizedW && horiz.isIdentity(cropW);
        boolean vertIdentity = cropH == resizedH && vert.isIdentity(cropH);

        // Horizontal pass: rows [rowFirst, rowEnd) of the crop, window columns only; float intermediate like Pillow.
        float[] tmp = new float[channels * rows * winW];
        for (int c = 0; c < channels; c++) {
            for (int r = 0; r < rows; r++) {
                int srcRow = c * srcPlane + (top + rowFirst + r) * srcW + left;
                int tmpRow = (c * rows + r) * winW;
                if (horizIdentity) {
                    System.arraycopy(in, srcRow + winLeft, tmp, tmpRow, winW);
                    continue;
                }
                for (int x = 0; x < winW; x++) {
                    int ox = winLeft + x;
                    int from = srcRow + horiz.first[ox];
                    int wBase = ox * horiz.taps;
                    int n = horiz.count[ox];
                    double acc = 0.0;
                    for (int k = 0; k < n; k++) acc += in[from + k] * horiz.weight[wBase + k];
                    tmp[tmpRow + x] = (float) acc;
                }
            }
        }

        // Vertical pass, then flip and normalise while storing.
        double[] acc = new double[winW];
        int outPlane = winH * winW;
        for (int c = 0; c < channels; c++) {
            float mean = norm == null ? 0f : norm.meanAt(c);
            float invStd = norm == null ? 1f : norm.invStdAt(c);
            for (int y = 0; y < winH; y++) {
                int oy = winTop + y;
                int outRow = dstOffset + c * outPlane + y * winW;
                if (vertIdentity) {
                    int tmpRow = (c * rows + (oy - rowFirst)) * winW;
                    for (int x = 0; x < winW; x++) acc[x] = tmp[tmpRow + x];
                } else {
                    java.util.Arrays.fill(acc, 0.0);
                    int wBase = oy * vert.taps;
                    int n = vert.count[oy];
                    for (int k = 0; k < n; k++) {
                        double wk = vert.weight[wBase + k];
                        int tmpRow = (c * rows + vert.first[oy] + k - rowFirst) * winW;
                        for (int x = 0; x < winW; x++) acc[x] += tmp[tmpRow + x] * wk;
                    }
                }
                for (int x = 0; x < winW; x++) {
                    float v = (float) acc[x];
                    int ox = flip ? winW - 1 - x : x;
                    dst[outRow + ox] = norm == null ? v : (v - mean) * invStd;
                }
            }
        }
    }

    private static void checkBox(String what, int top, int left, int h, int w, int height, int width) {
        if (h < 1 || w < 1 || top < 0 || left < 0 || top + h > height || left + w > width) {
            throw new IllegalArgumentException(what + " (top=" + top + ", left=" + left + ", height=" + h
                    + ", width=" + w + ") must be non-empty and inside the " + height + "x" + width + " image");
        }
    }
}
