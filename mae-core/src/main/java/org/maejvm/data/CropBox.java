package org.maejvm.data;

/** A crop rectangle in pixels, in torchvision's order {@code (i = top, j = left, h, w)}. */
public record CropBox(int top, int left, int height, int width) {
    public CropBox {
        if (top < 0 || left < 0 || height < 1 || width < 1) {
            throw new IllegalArgumentException("crop box needs top, left >= 0 and height, width >= 1, got top=" + top
                    + " left=" + left + " height=" + height + " width=" + width);
        }
    }
}
