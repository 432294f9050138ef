package org.maejvm.viz;

/**
 * MAE's {@code unpatchify} on host arrays: patches [B, L, p*p*C] with features in (i, j, c) order (the order of
 * {@code patchify}, 'nchpwq->nhwpqc', and of the model's predictions) back to images [B, C, H, W], square grids
 * only, as the official code.
 */
public final class Patches {
    private Patches() {}

    /** The inverse of {@code Backend.patchify(imgs, patch, true, out)} for square images of {@code size} pixels. */
    public static float[] unpatchify(float[] patches, int batch, int channels, int size, int patch) {
        checkGeometry(batch, channels, size, patch);
        int grid = size / patch, feat = patch * patch * channels;
        long expected = (long) batch * grid * grid * feat;
        if (patches.length != expected) {
            throw new IllegalArgumentException("unpatchify: " + patches.length + " values, expected B x L x p*p*C = "
                    + batch + " x " + grid * grid + " x " + feat + " = " + expected);
        }
        float[] imgs = new float[patches.length];
        for (int b = 0; b < batch; b++) {
            for (int gy = 0; gy < grid; gy++) {
                for (int gx = 0; gx < grid; gx++) {
                    int row = ((b * grid + gy) * grid + gx) * feat;
                    for (int i = 0; i < patch; i++) {
                        for (int j = 0; j < patch; j++) {
                            for (int c = 0; c < channels; c++) {
                                int y = gy * patch + i, x = gx * patch + j;
                                imgs[((b * channels + c) * size + y) * size + x] = patches[row + (i * patch + j) * channels + c];
                            }
                        }
                    }
                }
            }
        }
        return imgs;
    }

    /** Index of the patch (row-major over the grid) that holds pixel (y, x). */
    public static int patchAt(int y, int x, int size, int patch) {
        return (y / patch) * (size / patch) + x / patch;
    }

    static void checkGeometry(int batch, int channels, int size, int patch) {
        if (batch < 1 || channels < 1) {
            throw new IllegalArgumentException("batch and channels must be >= 1, got batch=" + batch + " channels=" + channels);
        }
        if (patch < 1 || size < 1 || size % patch != 0) {
            throw new IllegalArgumentException("patch size " + patch + " must divide the image size " + size);
        }
    }
}
