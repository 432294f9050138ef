package org.maejvm.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.maejvm.io.MalformedFileException;

/**
 * Decodes image files with ImageIO (plus any registered plugins such as TwelveMonkeys' JPEG reader) into
 * {@link FloatImage}s, converted like PIL's {@code convert("RGB")} / {@code convert("L")}.
 *
 * <p>Decoding is strict: a reader warning (for example a truncated JPEG, which ImageIO would otherwise fill with
 * gray) fails the read, as PIL does without {@code LOAD_TRUNCATED_IMAGES}; only notices about colour profiles
 * (such as a CMYK JPEG without an ICC profile) are let through, since the pixels are all there. Alpha is dropped,
 * not composited. Samples are divided by their maximum (255 for 8 bits), exactly as {@code ToTensor()} does.
 */
public final class ImageDecoder {
    // ITU-R 601-2 luma weights, the ones PIL's convert("L") uses.
    private static final float LUMA_R = 0.299f;
    private static final float LUMA_G = 0.587f;
    private static final float LUMA_B = 0.114f;

    private ImageDecoder() {}

    /**
     * Most pixels an image may declare: Pillow's decompression-bomb limit (twice its {@code MAX_IMAGE_PIXELS}), far
     * above any photo used for training. Checked from the header, before the decoder allocates anything.
     */
    public static final long MAX_PIXELS = 2L * 89_478_485L;
    /** Largest encoded file read into memory; an image larger than this is not a training image. */
    public static final long MAX_FILE_BYTES = 256L << 20;

    /** Reads and decodes {@code file} to {@code channels} (1 or 3) channels; a bad file gives a {@link MalformedFileException}. */
    public static FloatImage read(Path file, int channels) throws IOException {
        checkChannels(channels);
        long size = Files.size(file);
        if (size == 0) {
            throw new MalformedFileException(file, "empty file (0 bytes); expected an encoded image (PNG, JPEG, BMP,"
                    + " GIF, TIFF)");
        }
        if (size > MAX_FILE_BYTES) {
            throw new MalformedFileException(file, "file is " + size + " bytes, more than the " + MAX_FILE_BYTES
                    + " an image may have");
        }
        byte[] bytes = Files.readAllBytes(file);
        try {
            return toFloat(decode(bytes, channels), channels);
        } catch (BadImage e) {
            throw new MalformedFileException(file, e.getMessage() + extensionHint(file, bytes), e.getCause());
        } catch (RuntimeException e) {
            throw new MalformedFileException(file, "decoded, but its colour model cannot be converted to "
                    + (channels == 3 ? "RGB" : "gray") + ": " + e, e);
        }
    }

    /** Decodes an encoded image held in memory (PNG, JPEG, BMP, GIF, TIFF, ...). */
    public static BufferedImage decode(byte[] bytes) throws IOException {
        return decode(bytes, 3);
    }

    /** Decodes, refusing before allocation an image whose decoded form (and {@code channels} float planes) cannot fit. */
    private static BufferedImage decode(byte[] bytes, int channels) throws IOException {
        if (bytes.length == 0) throw new BadImage("empty (0 bytes)", null);
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new BadImage("not an image format ImageIO can read (" + bytes.length + " bytes, starting "
                        + hexPrefix(bytes) + "); readable: PNG, JPEG, BMP, GIF, TIFF", null);
            }
            ImageReader reader = readers.next();
            List<String> warnings = new ArrayList<>();
            IIOReadWarningListener onWarning = (source, warning) -> {
                if (!isColourProfileNotice(warning)) warnings.add(warning);
            };
            try {
                reader.addIIOReadWarningListener(onWarning);
                reader.setInput(in, true, true);
                checkDimensions(reader, channels);
                BufferedImage image = reader.read(0);
                if (!warnings.isEmpty()) {
                    throw new BadImage("damaged " + reader.getFormatName() + " image: " + warnings.get(0), null);
                }
                return image;
            } catch (BadImage e) {
                throw e;
            } catch (IOException | RuntimeException e) {
                // Readers throw assorted exceptions on corrupt data; to the caller they are all "unreadable".
                throw new BadImage("corrupt or truncated " + reader.getFormatName() + " image: " + e, e);
            } catch (OutOfMemoryError e) {
                // The header check keeps honest files from getting here; a lying one fails this one allocation.
                throw new BadImage(reader.getFormatName() + " image needs more memory than the heap has", null);
            } finally {
                reader.dispose();
            }
        }
    }

    /** The declared size, read from the header alone, must be positive, under {@link #MAX_PIXELS} and fit the heap. */
    private static void checkDimensions(ImageReader reader, int channels) throws IOException {
        long w = reader.getWidth(0);
        long h = reader.getHeight(0);
        String format = reader.getFormatName();
        if (w < 1 || h < 1) {
            throw new BadImage(format + " header declares " + w + "x" + h + " pixels; both sides must be >= 1", null);
        }
        long pixels = w * h;
        if (pixels > MAX_PIXELS) {
            throw new BadImage(format + " header declares " + w + "x" + h + " = " + pixels + " pixels, more than the "
                    + MAX_PIXELS + " allowed (a decompression bomb or not a training image)", null);
        }
        // decoded raster (at most 8 bytes a pixel for 16-bit RGBA) + the float planes
        long bytes = pixels * (8 + 4L * channels);
        if (bytes > Runtime.getRuntime().maxMemory()) {
            throw new BadImage(format + " image of " + w + "x" + h + " pixels needs about " + bytes
                    + " bytes of heap, more than the JVM has (" + Runtime.getRuntime().maxMemory() + "); raise -Xmx",
                    null);
        }
    }

    /** When the content is not what the name says, the name is the likely mistake; say so. */
    private static String extensionHint(Path file, byte[] bytes) {
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        String sniffed = sniff(bytes);
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 ? "" : name.substring(dot + 1);
        if (sniffed == null || ext.isEmpty()) return "";
        boolean matches = switch (sniffed) {
            case "jpeg" -> ext.equals("jpg") || ext.equals("jpeg");
            case "tiff" -> ext.equals("tif") || ext.equals("tiff");
            default -> ext.equals(sniffed);
        };
        return matches ? "" : " (the name ends in ." + ext + " but the content is " + sniffed.toUpperCase(java.util.Locale.ROOT) + ")";
    }

    private static String sniff(byte[] b) {
        if (b.length >= 8 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') return "png";
        if (b.length >= 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff) return "jpeg";
        if (b.length >= 6 && b[0] == 'G' && b[1] == 'I' && b[2] == 'F' && b[3] == '8') return "gif";
        if (b.length >= 2 && b[0] == 'B' && b[1] == 'M') return "bmp";
        if (b.length >= 4 && ((b[0] == 'I' && b[1] == 'I' && b[2] == 42) || (b[0] == 'M' && b[1] == 'M' && b[3] == 42))) {
            return "tiff";
        }
        if (b.length >= 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F' && b[8] == 'W' && b[9] == 'E') {
            return "webp";
        }
        return null;
    }

    /** A decoding failure before the file name is attached. */
    private static final class BadImage extends IOException {
        BadImage(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static boolean isColourProfileNotice(String warning) {
        String w = warning == null ? "" : warning.toLowerCase(java.util.Locale.ROOT);
        return w.contains("icc") || w.contains("color profile") || w.contains("colour profile");
    }

    /** Converts a decoded image to {@code channels} (1 or 3) float channels in [0, 1]. */
    public static FloatImage toFloat(BufferedImage image, int channels) {
        checkChannels(channels);
        int h = image.getHeight();
        int w = image.getWidth();
        int plane = h * w;
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        float[] out = new float[channels * plane];
        int space = cm.getColorSpace().getType();
        boolean indexed = cm instanceof IndexColorModel;
        if (!indexed && space == ColorSpace.TYPE_GRAY && cm.getNumColorComponents() == 1) {
            // Raw samples, no colour-space conversion: getRGB() would apply the linear-gray to sRGB curve,
            // which PIL never does.
            readBand(raster, 0, out, 0);
            for (int c = 1; c < channels; c++) System.arraycopy(out, 0, out, c * plane, plane);
        } else if (!indexed && space == ColorSpace.TYPE_RGB && cm.getNumColorComponents() == 3) {
            float[] rgb = channels == 3 ? out : new float[3 * plane];
            for (int b = 0; b < 3; b++) readBand(raster, b, rgb, b * plane);
            if (channels == 1) luma(rgb, plane, out);
        } else {
            // Palettes, CMYK, YCCK and other spaces: let the colour model convert to sRGB.
            float[] rgb = channels == 3 ? out : new float[3 * plane];
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                image.getRGB(0, y, w, 1, row, 0, w);
                for (int x = 0; x < w; x++) {
                    int p = row[x];
                    int i = y * w + x;
                    rgb[i] = ((p >> 16) & 0xff) / 255f; // divisions, not * (1/255): exact like ToTensor
                    rgb[plane + i] = ((p >> 8) & 0xff) / 255f;
                    rgb[2 * plane + i] = (p & 0xff) / 255f;
                }
            }
            if (channels == 1) luma(rgb, plane, out);
        }
        return new FloatImage(out, channels, h, w);
    }

    /** One raster band scaled by its bit depth into {@code out[offset ..]}. */
    private static void readBand(Raster raster, int band, float[] out, int offset) {
        int w = raster.getWidth();
        int h = raster.getHeight();
        int x0 = raster.getMinX();
        int y0 = raster.getMinY();
        int type = raster.getDataBuffer().getDataType();
        if (type == DataBuffer.TYPE_FLOAT || type == DataBuffer.TYPE_DOUBLE) {
            // Floating-point rasters (some TIFFs) already hold intensities.
            float[] row = new float[w];
            for (int y = 0; y < h; y++) {
                raster.getSamples(x0, y0 + y, w, 1, band, row);
                System.arraycopy(row, 0, out, offset + y * w, w);
            }
            return;
        }
        int bits = raster.getSampleModel().getSampleSize(band);
        float max = (float) ((1L << bits) - 1);
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            raster.getSamples(x0, y0 + y, w, 1, band, row);
            int base = offset + y * w;
            for (int x = 0; x < w; x++) out[base + x] = row[x] / max;
        }
    }

    private static void luma(float[] rgb, int plane, float[] gray) {
        for (int i = 0; i < plane; i++) {
            gray[i] = LUMA_R * rgb[i] + LUMA_G * rgb[plane + i] + LUMA_B * rgb[2 * plane + i];
        }
    }

    static void checkChannels(int channels) {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 (gray) or 3 (RGB), got " + channels);
        }
    }

    private static String hexPrefix(byte[] bytes) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(4, bytes.length); i++) sb.append(String.format("%02x", bytes[i] & 0xff));
        return sb.length() == 0 ? "(nothing)" : sb.toString();
    }
}
