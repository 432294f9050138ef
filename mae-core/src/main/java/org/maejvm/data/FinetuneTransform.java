package org.maejvm.data;

import java.util.random.RandomGenerator;

/**
 * The official fine-tuning augmentation ({@code main_finetune.py} through timm's {@code create_transform} with
 * {@code is_training=True}): RandomResizedCrop(size, scale (0.08, 1), ratio (3/4, 4/3), BICUBIC), horizontal flip
 * (0.5), RandAugment ({@code rand-m9-mstd0.5-inc1}) on the 8-bit image, ToTensor, Normalize, RandomErasing (0.25,
 * pixel mode, one box). Random draws happen in that order, all from the sample's generator.
 */
public final class FinetuneTransform implements Transform {
    private final int size;
    private final RandomResizedCrop crop;
    private final RandAugment randAugment;
    private final RandomErasing erasing;
    private final Normalization normalization;

    /** {@code randAugment} and {@code erasing} may be null (left out). */
    public FinetuneTransform(int size, RandomResizedCrop crop, RandAugment randAugment, RandomErasing erasing,
                             Normalization normalization) {
        if (size < 1) throw new IllegalArgumentException("output size must be >= 1, got " + size);
        if (crop == null || normalization == null) throw new IllegalArgumentException("crop and normalization are required");
        this.size = size;
        this.crop = crop;
        this.randAugment = randAugment;
        this.erasing = erasing;
        this.normalization = normalization;
    }

    /** The official recipe at {@code size}: RandAugment rand-m9-mstd0.5-inc1 and random erasing with {@code reprob}. */
    public static FinetuneTransform official(int size, Normalization normalization, double reprob) {
        return new FinetuneTransform(size, RandomResizedCrop.TORCHVISION_DEFAULT, RandAugment.official(normalization),
                reprob > 0 ? new RandomErasing(reprob) : null, normalization);
    }

    @Override public int outputHeight() { return size; }

    @Override public int outputWidth() { return size; }

    @Override
    public void checkChannels(int channels) {
        normalization.requireChannels(channels);
    }

    @Override
    public void apply(FloatImage image, RandomGenerator rng, float[] dst, int offset) {
        int c = image.channels();
        CropBox box = crop.sample(image.height(), image.width(), rng);
        boolean flip = rng.nextDouble() < 0.5;
        Bicubic.resample(image, box.top(), box.left(), box.height(), box.width(), size, size, 0, 0, size, size, flip,
                null, dst, offset);
        if (randAugment != null) {
            // PIL holds the resized crop as bytes: RandAugment sees (and returns) 8-bit values.
            randAugment.apply(Image8.fromFloats(dst, offset, c, size, size), rng).toFloats(dst, offset);
        }
        normalization.applyInPlace(dst, offset, c, size * size);
        if (erasing != null) erasing.apply(dst, offset, c, size, size, rng);
    }

    @Override
    public String toString() {
        return "FinetuneTransform[size=" + size + ", " + crop + ", " + randAugment + ", erasing="
                + (erasing == null ? 0 : erasing.probability()) + ", " + normalization + "]";
    }
}
