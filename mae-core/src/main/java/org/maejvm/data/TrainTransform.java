package org.maejvm.data;

import java.util.random.RandomGenerator;

/**
 * MAE pretraining augmentation ({@code main_pretrain.py}): {@code RandomResizedCrop(size, scale=(0.2, 1.0),
 * interpolation=BICUBIC)}, {@code RandomHorizontalFlip()}, {@code ToTensor()}, {@code Normalize(mean, std)},
 * fused into one bicubic pass. Random draws happen in that order: crop box, then flip.
 */
public final class TrainTransform implements Transform {
    private final int size;
    private final RandomResizedCrop crop;
    private final double flipProbability;
    private final Normalization normalization;

    /**
     * @param normalization applied last; null leaves values in [0, 1] (plus bicubic overshoot)
     */
    public TrainTransform(int size, RandomResizedCrop crop, double flipProbability, Normalization normalization) {
        if (size < 1) throw new IllegalArgumentException("output size must be >= 1, got " + size);
        if (!(flipProbability >= 0 && flipProbability <= 1)) {
            throw new IllegalArgumentException("flip probability must be in [0, 1], got " + flipProbability);
        }
        if (crop == null) throw new IllegalArgumentException("crop parameters must not be null");
        this.size = size;
        this.crop = crop;
        this.flipProbability = flipProbability;
        this.normalization = normalization;
    }

    /** The official MAE pretraining recipe at {@code size} with the given normalisation. */
    public static TrainTransform mae(int size, Normalization normalization) {
        return new TrainTransform(size, RandomResizedCrop.MAE_PRETRAIN, 0.5, normalization);
    }

    @Override
    public int outputHeight() {
        return size;
    }

    @Override
    public int outputWidth() {
        return size;
    }

    public Normalization normalization() {
        return normalization;
    }

    @Override
    public void checkChannels(int channels) {
        if (normalization != null) normalization.requireChannels(channels);
    }

    @Override
    public void apply(FloatImage image, RandomGenerator rng, float[] dst, int offset) {
        CropBox box = crop.sample(image.height(), image.width(), rng);
        boolean flip = rng.nextDouble() < flipProbability;
        Bicubic.resample(image, box.top(), box.left(), box.height(), box.width(), size, size,
                0, 0, size, size, flip, normalization, dst, offset);
    }

    @Override
    public String toString() {
        return "TrainTransform[size=" + size + ", " + crop + ", flip=" + flipProbability + ", " + normalization + "]";
    }
}
