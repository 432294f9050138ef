package org.maejvm.viz;

import java.awt.image.BufferedImage;

/** Float pixels to Java2D images. */
public final class Pictures {
    private Pictures() {}

    /**
     * One [C, size, size] image at {@code offset} of {@code pixels} (values in [0, 1], clipped as the official
     * visualisation clips) as an RGB image; a 1-channel image becomes grey.
     */
    public static BufferedImage toImage(float[] pixels, int offset, int channels, int size) {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("only 1-channel (grey) and 3-channel (RGB) images can be drawn, got "
                    + channels + " channels");
        }
        int plane = size * size;
        BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int at = offset + y * size + x;
                int r = toByte(pixels[at]);
                int g = channels == 3 ? toByte(pixels[at + plane]) : r;
                int b = channels == 3 ? toByte(pixels[at + 2 * plane]) : r;
                img.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return img;
    }

    /** A value in [0, 1] as 0..255, rounded; NaN shows as black so a broken model is visible, not an exception. */
    static int toByte(float v) {
        if (!(v > 0f)) return 0;
        if (v >= 1f) return 255;
        return Math.round(v * 255f);
    }

    /** Nearest-neighbour enlargement by a whole factor: every pixel becomes a factor x factor block. */
    public static BufferedImage scaleNearest(BufferedImage src, int factor) {
        if (factor < 1) throw new IllegalArgumentException("scale factor must be >= 1, got " + factor);
        if (factor == 1) return src;
        int w = src.getWidth(), h = src.getHeight();
        BufferedImage out = new BufferedImage(w * factor, h * factor, BufferedImage.TYPE_INT_RGB);
        int[] row = new int[w * factor];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = src.getRGB(x, y);
                for (int k = 0; k < factor; k++) row[x * factor + k] = rgb;
            }
            for (int k = 0; k < factor; k++) out.setRGB(0, y * factor + k, w * factor, 1, row, 0, w * factor);
        }
        return out;
    }
}
