package org.maejvm.data;

/**
 * A batch of transformed images, {@code images} laid out {@code [size, channels, height, width]} (NCHW, the layout
 * of a PyTorch batch), with each image's label and its index in the dataset.
 *
 * <p>{@code size} can be smaller than the loader's batch size: for the last batch of an epoch without drop-last,
 * and when unreadable images were skipped (the loader does not refill such batches, so batch contents stay a
 * pure function of seed and epoch).
 */
public record Batch(float[] images, int size, int channels, int height, int width, int[] labels, int[] indices) {
    public Batch {
        if (size < 0 || channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("bad batch shape [" + size + ", " + channels + ", " + height + ", "
                    + width + "]");
        }
        if (images == null || (long) images.length != (long) size * channels * height * width) {
            throw new IllegalArgumentException("batch [" + size + ", " + channels + ", " + height + ", " + width
                    + "] needs " + ((long) size * channels * height * width) + " floats, got "
                    + (images == null ? "null" : images.length));
        }
        if (labels == null || labels.length != size || indices == null || indices.length != size) {
            throw new IllegalArgumentException("labels and indices need " + size + " entries, got "
                    + (labels == null ? "null" : labels.length) + " and "
                    + (indices == null ? "null" : indices.length));
        }
    }

    /** Floats per image: {@code channels * height * width}. */
    public int imageSize() {
        return channels * height * width;
    }

    /** Image {@code i} of the batch as a copy. */
    public FloatImage image(int i) {
        if (i < 0 || i >= size) throw new IndexOutOfBoundsException("image " + i + " of a batch of " + size);
        float[] one = new float[imageSize()];
        System.arraycopy(images, i * imageSize(), one, 0, one.length);
        return new FloatImage(one, channels, height, width);
    }

    /** The shape {@code [size, channels, height, width]}. */
    public int[] shape() {
        return new int[] {size, channels, height, width};
    }

    @Override
    public String toString() {
        return "Batch[" + size + "x" + channels + "x" + height + "x" + width + "]";
    }
}
