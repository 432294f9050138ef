package org.maejvm.data;

/**
 * An 8-bit image, channel-major {@code [channels, height, width]} with values 0..255: what a PIL image is between
 * torchvision's resize and {@code ToTensor()}, where timm's RandAugment works. The pixel ops follow Pillow 9's
 * ImageOps / ImageEnhance / Image.transform semantics (truncation and clipping included), so a RandAugment op here
 * gives the bytes PIL gives (checked against PIL fixtures; the bicubic affine resampling within 1 level).
 */
public record Image8(int[] px, int channels, int height, int width) {
    public Image8 {
        if (channels < 1 || height < 1 || width < 1 || px == null || px.length != channels * height * width) {
            throw new IllegalArgumentException("an 8-bit image of " + channels + "x" + height + "x" + width
                    + " needs that many values, got " + (px == null ? "null" : px.length));
        }
    }

    /** {@code round(255 * v)} of each value, clipped to 0..255, as PIL stores a resized float result. */
    public static Image8 fromFloats(float[] data, int offset, int channels, int height, int width) {
        int[] px = new int[channels * height * width];
        for (int i = 0; i < px.length; i++) {
            float v = data[offset + i] * 255f;
            px[i] = v <= 0f ? 0 : v >= 255f ? 255 : Math.round(v);
        }
        return new Image8(px, channels, height, width);
    }

    /** {@code ToTensor()}: value / 255 into {@code dst[offset ..]}. */
    public void toFloats(float[] dst, int offset) {
        for (int i = 0; i < px.length; i++) dst[offset + i] = px[i] / 255f;
    }

    public int planeSize() { return height * width; }

    public int get(int c, int y, int x) { return px[(c * height + y) * width + x]; }

    /** A copy with every value mapped through a 256-entry table per channel ({@code lut[c * 256 + v]}). */
    Image8 lookup(int[] lut, boolean perChannel) {
        int[] out = new int[px.length];
        int plane = planeSize();
        for (int i = 0; i < px.length; i++) out[i] = lut[(perChannel ? (i / plane) * 256 : 0) + px[i]];
        return new Image8(out, channels, height, width);
    }

    /** The grayscale of PIL's {@code convert("L")}: (R*19595 + G*38470 + B*7471 + 0x8000) >> 16; gray stays as is. */
    int[] luminance() {
        int plane = planeSize();
        int[] l = new int[plane];
        if (channels < 3) {
            System.arraycopy(px, 0, l, 0, plane);
            return l;
        }
        for (int i = 0; i < plane; i++) {
            l[i] = (px[i] * 19595 + px[plane + i] * 38470 + px[2 * plane + i] * 7471 + 0x8000) >> 16;
        }
        return l;
    }
}
