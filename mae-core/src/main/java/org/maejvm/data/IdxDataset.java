package org.maejvm.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.maejvm.io.MalformedFileException;

/**
 * Gray images from an IDX images file with an optional IDX labels file (MNIST, Fashion-MNIST, KMNIST, ... or any
 * data in that format). Everything is held in memory as bytes (47 MB for 60,000 28x28 images).
 */
public final class IdxDataset implements Dataset {
    private final byte[] pixels;
    private final byte[] labels;
    private final int count;
    private final int rows;
    private final int cols;
    private final List<String> classNames;
    private final Normalization normalization;

    /**
     * @param labelsFile may be null for unlabelled images (labels read as -1)
     * @param classNames may be null: then "0", "1", ... up to the largest label
     * @param normalization may be null: then (0.5, 0.5)
     */
    public IdxDataset(Path imagesFile, Path labelsFile, List<String> classNames, Normalization normalization)
            throws IOException {
        Idx.UByteArray images = Idx.readImages(imagesFile);
        Idx.UByteArray lab = labelsFile == null ? null : Idx.readLabels(labelsFile);
        if (lab != null && lab.count() != images.count()) {
            throw new MalformedFileException(labelsFile, "has " + lab.count() + " labels but " + imagesFile + " has "
                    + images.count() + " images; the two files must have the same count");
        }
        this.pixels = images.data();
        this.labels = lab == null ? null : lab.data();
        this.count = images.count();
        this.rows = images.dims()[1];
        this.cols = images.dims()[2];
        if (count > 0 && (rows < 1 || cols < 1)) {
            throw new MalformedFileException(imagesFile, "images of " + rows + "x" + cols
                    + " pixels; both sides must be >= 1");
        }
        this.classNames = classNames != null ? List.copyOf(classNames) : numberedClasses(labels);
        if (labels != null) {
            for (int i = 0; i < count; i++) {
                if ((labels[i] & 0xff) >= this.classNames.size()) {
                    throw new MalformedFileException(labelsFile, "label " + (labels[i] & 0xff) + " at " + i
                            + " is outside the " + this.classNames.size() + " classes " + this.classNames);
                }
            }
        }
        if (normalization != null) normalization.requireChannels(1);
        this.normalization = normalization != null ? normalization : Normalization.HALF;
    }

    public IdxDataset(Path imagesFile, Path labelsFile) throws IOException {
        this(imagesFile, labelsFile, null, null);
    }

    private static List<String> numberedClasses(byte[] labels) {
        if (labels == null) return List.of();
        int max = -1;
        for (byte b : labels) max = Math.max(max, b & 0xff);
        List<String> names = new ArrayList<>(max + 1);
        for (int i = 0; i <= max; i++) names.add(Integer.toString(i));
        return List.copyOf(names);
    }

    @Override
    public int size() {
        return count;
    }

    @Override
    public List<String> classNames() {
        return classNames;
    }

    @Override
    public int channels() {
        return 1;
    }

    public int height() {
        return rows;
    }

    public int width() {
        return cols;
    }

    @Override
    public Normalization normalization() {
        return normalization;
    }

    @Override
    public Sample read(int index) {
        Dataset.checkIndex(index, count);
        int plane = rows * cols;
        float[] out = new float[plane];
        int base = index * plane;
        for (int i = 0; i < plane; i++) out[i] = (pixels[base + i] & 0xff) / 255f;
        return new Sample(new FloatImage(out, 1, rows, cols), labels == null ? -1 : labels[index] & 0xff);
    }

    /** Label of item {@code index} without decoding the image (-1 when unlabelled). */
    public int label(int index) {
        Dataset.checkIndex(index, count);
        return labels == null ? -1 : labels[index] & 0xff;
    }
}
