package org.maejvm.data;

/**
 * A decoded image as floats in channel-major order {@code [channels, height, width]}, values in [0, 1]
 * before normalisation — the layout of a PyTorch {@code ToTensor()} result.
 */
public record FloatImage(float[] data, int channels, int height, int width) {
    public FloatImage {
        if (channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("image dimensions must be positive, got channels=" + channels
                    + " height=" + height + " width=" + width);
        }
        if (data == null || (long) data.length != (long) channels * height * width) {
            throw new IllegalArgumentException("expected " + ((long) channels * height * width) + " floats for a "
                    + channels + "x" + height + "x" + width + " image, got "
                    + (data == null ? "null" : data.length));
        }
    }

    /** Number of floats in one channel plane. */
    public int planeSize() {
        return height * width;
    }

    /** The value at (channel, y, x). */
    public float get(int c, int y, int x) {
        return data[(c * height + y) * width + x];
    }

    @Override
    public String toString() {
        return "FloatImage[" + channels + "x" + height + "x" + width + "]";
    }
}
