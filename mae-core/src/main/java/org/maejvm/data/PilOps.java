package org.maejvm.data;

/**
 * The Pillow 9 operations timm's RandAugment applies, on {@link Image8}: ImageOps (autocontrast, equalize,
 * invert, posterize, solarize), timm's solarize_add, ImageEnhance (Color, Contrast, Brightness, Sharpness: a blend
 * with a degenerate image, in C float with truncation) and affine transforms with Pillow's bicubic transform filter
 * (cubic a = -1, edge rows and columns repeated, outside pixels filled with {@code fill}).
 */
public final class PilOps {
    private PilOps() {}

    // ------------------------------------------------------------------ lookup-table ops (ImageOps)

    /** ImageOps.autocontrast(cutoff=0): each channel stretched from its [min, max] to [0, 255], truncating. */
    public static Image8 autocontrast(Image8 img) {
        int[] lut = new int[256 * img.channels()];
        int[] hist = histogram(img);
        for (int c = 0; c < img.channels(); c++) {
            int lo = 0, hi = 255;
            while (lo < 256 && hist[c * 256 + lo] == 0) lo++;
            while (hi >= 0 && hist[c * 256 + hi] == 0) hi--;
            for (int i = 0; i < 256; i++) {
                int v = i;
                if (hi > lo) {
                    double scale = 255.0 / (hi - lo);
                    double offset = -lo * scale;
                    v = clip8((int) (i * scale + offset));
                }
                lut[c * 256 + i] = v;
            }
        }
        return img.lookup(lut, true);
    }

    /** ImageOps.equalize: each channel's cumulative histogram as the map. */
    public static Image8 equalize(Image8 img) {
        int[] lut = new int[256 * img.channels()];
        int[] hist = histogram(img);
        for (int c = 0; c < img.channels(); c++) {
            int nonZero = 0, total = 0, last = 0;
            for (int i = 0; i < 256; i++) {
                int h = hist[c * 256 + i];
                if (h != 0) {
                    nonZero++;
                    total += h;
                    last = h;
                }
            }
            int step = nonZero <= 1 ? 0 : (total - last) / 256;
            int n = step / 2;
            for (int i = 0; i < 256; i++) {
                if (step == 0) {
                    lut[c * 256 + i] = i;
                } else {
                    lut[c * 256 + i] = clip8(n / step);
                    n += hist[c * 256 + i];
                }
            }
        }
        return img.lookup(lut, true);
    }

    /** ImageOps.invert: 255 - v. */
    public static Image8 invert(Image8 img) {
        int[] lut = new int[256];
        for (int i = 0; i < 256; i++) lut[i] = 255 - i;
        return img.lookup(lut, false);
    }

    /** ImageOps.posterize: keeps the {@code bits} high bits (timm: unchanged for 8 or more). */
    public static Image8 posterize(Image8 img, int bits) {
        if (bits >= 8) return img;
        int mask = ~((1 << (8 - Math.max(bits, 0))) - 1);
        int[] lut = new int[256];
        for (int i = 0; i < 256; i++) lut[i] = i & mask & 0xFF;
        return img.lookup(lut, false);
    }

    /** ImageOps.solarize: values at or above {@code threshold} are inverted. */
    public static Image8 solarize(Image8 img, int threshold) {
        int[] lut = new int[256];
        for (int i = 0; i < 256; i++) lut[i] = i < threshold ? i : 255 - i;
        return img.lookup(lut, false);
    }

    /** timm's solarize_add: values below {@code threshold} get {@code add}, capped at 255. */
    public static Image8 solarizeAdd(Image8 img, int add, int threshold) {
        int[] lut = new int[256];
        for (int i = 0; i < 256; i++) lut[i] = i < threshold ? Math.min(255, i + add) : i;
        return img.lookup(lut, false);
    }

    // ------------------------------------------------------------------ ImageEnhance

    /** ImageEnhance.Color: blend with the grayscale (a gray image is its own grayscale: unchanged). */
    public static Image8 color(Image8 img, double factor) {
        if (img.channels() < 3) return blend(img, img, factor);
        int[] l = img.luminance();
        int plane = img.planeSize();
        int[] gray = new int[img.px().length];
        for (int c = 0; c < img.channels(); c++) System.arraycopy(l, 0, gray, c * plane, plane);
        return blend(new Image8(gray, img.channels(), img.height(), img.width()), img, factor);
    }

    /** ImageEnhance.Contrast: blend with a flat image of the rounded mean grayscale. */
    public static Image8 contrast(Image8 img, double factor) {
        long sum = 0;
        int[] l = img.luminance();
        for (int v : l) sum += v;
        int mean = (int) ((double) sum / l.length + 0.5);
        int[] flat = new int[img.px().length];
        java.util.Arrays.fill(flat, mean);
        return blend(new Image8(flat, img.channels(), img.height(), img.width()), img, factor);
    }

    /** ImageEnhance.Brightness: blend with black. */
    public static Image8 brightness(Image8 img, double factor) {
        return blend(new Image8(new int[img.px().length], img.channels(), img.height(), img.width()), img, factor);
    }

    /** ImageEnhance.Sharpness: blend with ImageFilter.SMOOTH (3x3 kernel 1 1 1 / 1 5 1 / 1 1 1, / 13; border kept). */
    public static Image8 sharpness(Image8 img, double factor) {
        int h = img.height(), w = img.width();
        int[] px = img.px();
        int[] smooth = px.clone();
        float k = 1f / 13f, centre = 5f / 13f;
        for (int c = 0; c < img.channels(); c++) {
            int base = c * h * w;
            for (int y = 1; y < h - 1; y++) {
                for (int x = 1; x < w - 1; x++) {
                    float ss = 0.5f; // Pillow adds 0.5 once for rounding, then truncates
                    for (int dy = 1; dy >= -1; dy--) {
                        int row = base + (y + dy) * w;
                        float kc = dy == 0 ? centre : k;
                        ss += px[row + x - 1] * k + px[row + x] * kc + px[row + x + 1] * k;
                    }
                    smooth[base + y * w + x] = ss <= 0f ? 0 : ss >= 255f ? 255 : (int) ss;
                }
            }
        }
        return blend(new Image8(smooth, img.channels(), h, w), img, factor);
    }

    /** Image.blend(a, b, alpha) = a + alpha (b - a) in C float, truncated; clipped when extrapolating. */
    static Image8 blend(Image8 a, Image8 b, double alpha) {
        float al = (float) alpha;
        int[] pa = a.px(), pb = b.px();
        int[] out = new int[pa.length];
        boolean inside = al >= 0 && al <= 1.0;
        for (int i = 0; i < out.length; i++) {
            float t = pa[i] + al * (pb[i] - pa[i]);
            out[i] = inside ? (int) t : t <= 0f ? 0 : t >= 255f ? 255 : (int) t;
        }
        return new Image8(out, a.channels(), a.height(), a.width());
    }

    // ------------------------------------------------------------------ geometry (Image.transform AFFINE, BICUBIC)

    /**
     * Image.transform(size, AFFINE, (a, b, c, d, e, f), BICUBIC, fillcolor): output pixel (x, y) samples the input
     * at (a x' + b y' + c, d x' + e y' + f) with x' = x + 0.5, y' = y + 0.5; outside the input it is {@code fill[ch]}.
     */
    public static Image8 affine(Image8 img, double[] m, int[] fill) {
        int h = img.height(), w = img.width(), ch = img.channels();
        int[] out = new int[img.px().length];
        double[] v = new double[ch];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double xin = m[0] * (x + 0.5) + m[1] * (y + 0.5) + m[2];
                double yin = m[3] * (x + 0.5) + m[4] * (y + 0.5) + m[5];
                boolean inside = bicubic(img, xin, yin, v);
                for (int c = 0; c < ch; c++) {
                    int o;
                    if (!inside) o = fill[Math.min(c, fill.length - 1)];
                    else o = v[c] <= 0 ? 0 : v[c] >= 255 ? 255 : (int) v[c];
                    out[(c * h + y) * w + x] = o;
                }
            }
        }
        return new Image8(out, ch, h, w);
    }

    /** Image.rotate(degrees, BICUBIC, fillcolor): counter-clockwise about the centre (w / 2, h / 2), same size. */
    public static Image8 rotate(Image8 img, double degrees, int[] fill) {
        double angle = degrees % 360.0;
        if (angle < 0) angle += 360.0;
        if (angle == 0) return img;
        double cx = img.width() / 2.0, cy = img.height() / 2.0;
        double r = -Math.toRadians(angle);
        double a = Math.cos(r), b = Math.sin(r), d = -Math.sin(r), e = Math.cos(r);
        double c = a * -cx + b * -cy + cx;
        double f = d * -cx + e * -cy + cy;
        return affine(img, new double[] {a, b, c, d, e, f}, fill);
    }

    /** timm shear_x: AFFINE (1, factor, 0, 0, 1, 0). */
    public static Image8 shearX(Image8 img, double factor, int[] fill) {
        return affine(img, new double[] {1, factor, 0, 0, 1, 0}, fill);
    }

    /** timm shear_y: AFFINE (1, 0, 0, factor, 1, 0). */
    public static Image8 shearY(Image8 img, double factor, int[] fill) {
        return affine(img, new double[] {1, 0, 0, factor, 1, 0}, fill);
    }

    /** timm translate_x_rel: AFFINE (1, 0, pct * width, 0, 1, 0). */
    public static Image8 translateXRel(Image8 img, double pct, int[] fill) {
        return affine(img, new double[] {1, 0, pct * img.width(), 0, 1, 0}, fill);
    }

    /** timm translate_y_rel: AFFINE (1, 0, 0, 0, 1, pct * height). */
    public static Image8 translateYRel(Image8 img, double pct, int[] fill) {
        return affine(img, new double[] {1, 0, 0, 0, 1, pct * img.height()}, fill);
    }

    /** Pillow's bicubic_filter: false outside the image, else the value per channel (not yet clipped). */
    private static boolean bicubic(Image8 img, double xin, double yin, double[] out) {
        int h = img.height(), w = img.width();
        if (xin < 0.0 || xin >= w || yin < 0.0 || yin >= h) return false;
        xin -= 0.5;
        yin -= 0.5;
        int x = (int) Math.floor(xin), y = (int) Math.floor(yin);
        double dx = xin - x, dy = yin - y;
        x--;
        y--;
        int[] px = img.px();
        int x0 = clamp(x, w), x1 = clamp(x + 1, w), x2 = clamp(x + 2, w), x3 = clamp(x + 3, w);
        for (int c = 0; c < img.channels(); c++) {
            int base = c * h * w;
            double[] rows = new double[4];
            for (int k = 0; k < 4; k++) {
                int yy = y + k;
                if (k == 0) {
                    yy = clamp(yy, h);
                } else if (yy < 0 || yy >= h) {
                    rows[k] = rows[k - 1]; // Pillow repeats the previous row past the edge
                    continue;
                }
                int r = base + yy * w;
                rows[k] = cubic(px[r + x0], px[r + x1], px[r + x2], px[r + x3], dx);
            }
            out[c] = cubic(rows[0], rows[1], rows[2], rows[3], dy);
        }
        return true;
    }

    /** Pillow's BICUBIC macro (a = -1). */
    private static double cubic(double v1, double v2, double v3, double v4, double d) {
        double p1 = v2;
        double p2 = -v1 + v3;
        double p3 = 2 * (v1 - v2) + v3 - v4;
        double p4 = -v1 + v2 - v3 + v4;
        return p1 + d * (p2 + d * (p3 + d * p4));
    }

    private static int clamp(int i, int n) { return i < 0 ? 0 : i >= n ? n - 1 : i; }

    private static int clip8(int v) { return v < 0 ? 0 : Math.min(v, 255); }

    private static int[] histogram(Image8 img) {
        int[] h = new int[256 * img.channels()];
        int plane = img.planeSize();
        int[] px = img.px();
        for (int i = 0; i < px.length; i++) h[(i / plane) * 256 + px[i]]++;
        return h;
    }
}
