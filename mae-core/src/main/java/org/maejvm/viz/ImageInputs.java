package org.maejvm.viz;

import java.awt.Graphics2D;
import java.awt.Image;
import java.awt.image.BufferedImage;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import javax.imageio.ImageIO;

/**
 * Images to reconstruct, from a file or a folder (searched recursively, in name order): PNG, JPEG, BMP, GIF and IDX
 * image files (MNIST/Fashion-MNIST, optionally gzipped). Each image is resized so its short side is the model's
 * size, centre-cropped to a square and normalised with the dataset's mean/std. Unreadable files are skipped and
 * reported.
 */
public final class ImageInputs {
    private ImageInputs() {}

    static final int IDX_UBYTE_3D = 0x00000803;
    private static final List<String> PICTURE_SUFFIXES = List.of(".png", ".jpg", ".jpeg", ".bmp", ".gif");

    /** The images [count, C, size, size] (normalised), their names, and the files that could not be read, with why. */
    public record Batch(float[] images, int count, int channels, int size, List<String> names, List<String> skipped) {}

    public static Batch read(Path source, int channels, int size, int maxImages, float[] mean, float[] std)
            throws IOException {
        if (channels != 1 && channels != 3) throw new IllegalArgumentException("images must be read as 1 or 3 channels, got " + channels);
        if (maxImages < 1) throw new IllegalArgumentException("at least one image must be asked for, got max " + maxImages);
        float[] m = Unnormalize.perChannel("mean", mean, channels), s = Unnormalize.perChannel("std", std, channels);
        List<Path> files = candidates(source);
        List<float[]> images = new ArrayList<>();
        List<String> names = new ArrayList<>(), skipped = new ArrayList<>();
        for (Path f : files) {
            if (images.size() >= maxImages) break;
            try {
                if (isIdx(f)) {
                    List<BufferedImage> idx = readIdx(f, maxImages - images.size());
                    for (int i = 0; i < idx.size(); i++) {
                        images.add(toInput(idx.get(i), channels, size, m, s));
                        names.add(f.getFileName() + "#" + i);
                    }
                } else {
                    BufferedImage img = ImageIO.read(f.toFile());
                    if (img == null) throw new IOException("no image decoder recognises it");
                    images.add(toInput(img, channels, size, m, s));
                    names.add(f.getFileName().toString());
                }
            } catch (IOException | RuntimeException e) {
                skipped.add(f + ": " + e.getMessage());
            }
        }
        if (images.isEmpty()) {
            throw new IOException("no readable images in " + source + " (looked for PNG, JPEG, BMP, GIF and IDX files"
                    + (skipped.isEmpty() ? ", found none" : "; unreadable: " + String.join("; ", skipped)) + ")");
        }
        int plane = channels * size * size;
        float[] out = new float[images.size() * plane];
        for (int i = 0; i < images.size(); i++) System.arraycopy(images.get(i), 0, out, i * plane, plane);
        return new Batch(out, images.size(), channels, size, names, skipped);
    }

    /** The source itself, or the image files under a folder in name order. */
    static List<Path> candidates(Path source) throws IOException {
        if (Files.isRegularFile(source)) return List.of(source);
        if (!Files.isDirectory(source)) throw new NoSuchFileException(source.toString(), null, "no such image file or folder");
        try (Stream<Path> walk = Files.walk(source)) {
            return walk.filter(Files::isRegularFile).filter(p -> isIdx(p) || isPicture(p)).sorted().toList();
        }
    }

    static boolean isPicture(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return PICTURE_SUFFIXES.stream().anyMatch(n::endsWith);
    }

    /** MNIST-style names: train-images-idx3-ubyte(.gz), or any .idx / .idx3 file. */
    static boolean isIdx(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT).replaceFirst("\\.gz$", "");
        return n.endsWith("-ubyte") || n.endsWith(".idx") || n.endsWith(".idx3");
    }

    /** The first {@code limit} images of an IDX unsigned-byte [N, H, W] file, as grey pictures. */
    static List<BufferedImage> readIdx(Path file, int limit) throws IOException {
        try (InputStream raw = Files.newInputStream(file);
             DataInputStream in = new DataInputStream(file.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw)) {
            int magic = in.readInt();
            if (magic != IDX_UBYTE_3D) {
                throw new IOException(String.format(Locale.ROOT, "IDX magic 0x%08x, expected 0x%08x (unsigned bytes, "
                        + "3 dimensions: images); a label file?", magic, IDX_UBYTE_3D));
            }
            int n = in.readInt(), h = in.readInt(), w = in.readInt();
            if (n < 0 || h < 1 || w < 1) throw new IOException("IDX dimensions " + n + " x " + h + " x " + w + " are invalid");
            List<BufferedImage> out = new ArrayList<>();
            byte[] pixels = new byte[h * w];
            for (int i = 0; i < Math.min(n, limit); i++) {
                in.readFully(pixels);
                BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
                for (int p = 0; p < pixels.length; p++) {
                    int v = pixels[p] & 0xFF;
                    img.setRGB(p % w, p / w, v << 16 | v << 8 | v);
                }
                out.add(img);
            }
            return out;
        }
    }

    /** Short side to {@code size}, centre crop, then [C, size, size] floats in [0, 1] normalised per channel. */
    static float[] toInput(BufferedImage img, int channels, int size, float[] mean, float[] std) {
        BufferedImage square = resizeAndCrop(img, size);
        float[] out = new float[channels * size * size];
        int plane = size * size;
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int rgb = square.getRGB(x, y);
                float r = (rgb >> 16 & 0xFF) / 255f, g = (rgb >> 8 & 0xFF) / 255f, b = (rgb & 0xFF) / 255f;
                if (channels == 1) {
                    // ITU-R 601 luma, what PIL's convert('L') uses.
                    float luma = (float) (0.299 * r + 0.587 * g + 0.114 * b);
                    out[y * size + x] = (luma - mean[0]) / std[0];
                } else {
                    out[y * size + x] = (r - mean[0]) / std[0];
                    out[plane + y * size + x] = (g - mean[1]) / std[1];
                    out[2 * plane + y * size + x] = (b - mean[2]) / std[2];
                }
            }
        }
        return out;
    }

    /**
     * The image as size x size RGB: scaled smoothly and centre-cropped, or only copied when already that size.
     * Drawing onto an RGB image also keeps grey values as stored: {@code getRGB} on a TYPE_BYTE_GRAY image would
     * brighten them (Java treats its grey as linear, not sRGB).
     */
    static BufferedImage resizeAndCrop(BufferedImage img, int size) {
        int w = img.getWidth(), h = img.getHeight();
        if (w == size && h == size) {
            BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = out.createGraphics();
            try {
                g.drawImage(img, 0, 0, null);
            } finally {
                g.dispose();
            }
            return out;
        }
        double scale = (double) size / Math.min(w, h);
        int nw = Math.max(size, (int) Math.round(w * scale)), nh = Math.max(size, (int) Math.round(h * scale));
        // SCALE_SMOOTH averages areas when shrinking, so large photos do not alias.
        Image scaled = img.getScaledInstance(nw, nh, Image.SCALE_SMOOTH);
        BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.drawImage(scaled, -(nw - size) / 2, -(nh - size) / 2, null);
        } finally {
            g.dispose();
        }
        return out;
    }
}
