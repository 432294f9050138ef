package org.maejvm.data;

import java.util.random.RandomGenerator;

/**
 * The official evaluation transform ({@code main_finetune.py}'s {@code build_transform}):
 * {@code Resize(int(size / crop_pct), BICUBIC)} on the short side, {@code CenterCrop(size)}, {@code ToTensor()},
 * {@code Normalize}, where {@code crop_pct} is 224/256 = 0.875 for inputs up to 224 and 1.0 above.
 * Deterministic: the random generator is ignored. Only the pixels the centre crop keeps are computed.
 */
public final class EvalTransform implements Transform {
    /** The official ratio of crop to resize (224 / 256). */
    public static final double DEFAULT_CROP_PCT = 0.875;

    private final int size;
    private final int resizeTo;
    private final Normalization normalization;

    public EvalTransform(int size, double cropPct, Normalization normalization) {
        if (size < 1) throw new IllegalArgumentException("output size must be >= 1, got " + size);
        if (!(cropPct > 0 && cropPct <= 1)) {
            throw new IllegalArgumentException("crop_pct must be in (0, 1], got " + cropPct);
        }
        this.size = size;
        this.resizeTo = (int) (size / cropPct);
        this.normalization = normalization;
    }

    /** With the official {@code crop_pct}: 0.875 for {@code size <= 224}, 1.0 for larger inputs. */
    public EvalTransform(int size, Normalization normalization) {
        this(size, officialCropPct(size), normalization);
    }

    /** main_finetune.py: {@code crop_pct = 224 / 256 if input_size <= 224 else 1.0}. */
    public static double officialCropPct(int size) {
        return size <= 224 ? DEFAULT_CROP_PCT : 1.0;
    }

    @Override
    public int outputHeight() {
        return size;
    }

    @Override
    public int outputWidth() {
        return size;
    }

    /** The short-side length images are resized to before the centre crop. */
    public int resizeTo() {
        return resizeTo;
    }

    @Override
    public void checkChannels(int channels) {
        if (normalization != null) normalization.requireChannels(channels);
    }

    @Override
    public void apply(FloatImage image, RandomGenerator rng, float[] dst, int offset) {
        int h = image.height();
        int w = image.width();
        // torchvision's Resize(int): the short side becomes resizeTo, the long side scales and truncates.
        int newH;
        int newW;
        if (w <= h) {
            newW = resizeTo;
            newH = (int) ((long) resizeTo * h / w);
        } else {
            newH = resizeTo;
            newW = (int) ((long) resizeTo * w / h);
        }
        // CenterCrop: int(round((H - size) / 2)), Python rounding (halves to even).
        int top = (int) Math.rint((newH - size) / 2.0);
        int left = (int) Math.rint((newW - size) / 2.0);
        Bicubic.resample(image, 0, 0, h, w, newH, newW, top, left, size, size, false, normalization, dst, offset);
    }

    @Override
    public String toString() {
        return "EvalTransform[size=" + size + ", resize=" + resizeTo + ", " + normalization + "]";
    }
}
