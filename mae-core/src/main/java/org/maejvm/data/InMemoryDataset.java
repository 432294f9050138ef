package org.maejvm.data;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/** Images an application already holds, as {@link FloatImage}s (values in [0, 1]) or {@link BufferedImage}s. */
public final class InMemoryDataset implements Dataset {
    private final List<FloatImage> images;
    private final int[] labels;
    private final List<String> classNames;
    private final int channels;
    private final Normalization normalization;

    /**
     * @param labels one per image, or null for unlabelled images (-1)
     * @param classNames may be null: then "0", "1", ... up to the largest label
     * @param normalization may be null: then {@link Normalization#defaultFor} the channel count
     */
    public InMemoryDataset(List<FloatImage> images, int[] labels, List<String> classNames, Normalization normalization) {
        if (images == null || images.isEmpty()) throw new IllegalArgumentException("no images given");
        this.images = List.copyOf(images);
        this.channels = this.images.get(0).channels();
        for (int i = 0; i < this.images.size(); i++) {
            if (this.images.get(i).channels() != channels) {
                throw new IllegalArgumentException("image " + i + " has " + this.images.get(i).channels()
                        + " channels, image 0 has " + channels + "; all images need the same channel count");
            }
        }
        if (labels != null && labels.length != this.images.size()) {
            throw new IllegalArgumentException(labels.length + " labels for " + this.images.size() + " images");
        }
        int maxLabel = -1;
        if (labels != null) {
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] < -1) throw new IllegalArgumentException("label " + labels[i] + " at " + i + " is < -1");
                maxLabel = Math.max(maxLabel, labels[i]);
            }
        }
        if (classNames == null) {
            List<String> names = new ArrayList<>();
            for (int i = 0; i <= maxLabel; i++) names.add(Integer.toString(i));
            classNames = names;
        } else if (maxLabel >= classNames.size()) {
            throw new IllegalArgumentException("label " + maxLabel + " is outside the " + classNames.size()
                    + " class names " + classNames);
        }
        this.labels = labels == null ? null : labels.clone();
        this.classNames = List.copyOf(classNames);
        if (normalization != null) normalization.requireChannels(channels);
        this.normalization = normalization != null ? normalization : Normalization.defaultFor(channels);
    }

    public InMemoryDataset(List<FloatImage> images, int[] labels) {
        this(images, labels, null, null);
    }

    /** {@code n} images of {@code channels x height x width} packed in one NCHW array (copied). */
    public static InMemoryDataset fromArray(float[] nchw, int n, int channels, int height, int width, int[] labels) {
        long each = (long) channels * height * width;
        if (n < 1 || nchw.length != n * each) {
            throw new IllegalArgumentException(nchw.length + " floats do not hold " + n + " images of " + channels
                    + "x" + height + "x" + width);
        }
        List<FloatImage> images = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            float[] one = new float[(int) each];
            System.arraycopy(nchw, (int) (i * each), one, 0, one.length);
            images.add(new FloatImage(one, channels, height, width));
        }
        return new InMemoryDataset(images, labels);
    }

    /** Converts {@link BufferedImage}s to {@code channels} (1 or 3) channels now, once. */
    public static InMemoryDataset fromBufferedImages(List<BufferedImage> images, int[] labels, int channels,
                                                     List<String> classNames) {
        List<FloatImage> converted = new ArrayList<>(images.size());
        for (BufferedImage image : images) converted.add(ImageDecoder.toFloat(image, channels));
        return new InMemoryDataset(converted, labels, classNames, null);
    }

    @Override
    public int size() {
        return images.size();
    }

    @Override
    public List<String> classNames() {
        return classNames;
    }

    @Override
    public int channels() {
        return channels;
    }

    @Override
    public Normalization normalization() {
        return normalization;
    }

    @Override
    public Sample read(int index) {
        Dataset.checkIndex(index, images.size());
        // Transforms never write into their input, so the stored image can be shared.
        return new Sample(images.get(index), labels == null ? -1 : labels[index]);
    }
}
