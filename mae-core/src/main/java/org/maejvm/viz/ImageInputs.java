package org.maejvm.viz;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.maejvm.data.EvalTransform;
import org.maejvm.data.FloatImage;
import org.maejvm.data.Idx;
import org.maejvm.data.ImageDecoder;
import org.maejvm.data.Normalization;

/**
 * Images to reconstruct, from a file or a folder (searched recursively, in name order): PNG, JPEG, BMP, GIF and IDX
 * image files (MNIST/Fashion-MNIST, optionally gzipped). Decoding and preprocessing are the data pipeline's: the
 * short side is resized (PIL bicubic) to the model's size, the centre square is cropped and the dataset's
 * mean/std applied. Unreadable files are skipped and reported.
 */
public final class ImageInputs {
    private ImageInputs() {}

    private static final List<String> PICTURE_SUFFIXES = List.of(".png", ".jpg", ".jpeg", ".bmp", ".gif");

    /** The images [count, C, size, size] (normalised), their names, and the files that could not be read, with why. */
    public record Batch(float[] images, int count, int channels, int size, List<String> names, List<String> skipped) {}

    public static Batch read(Path source, int channels, int size, int maxImages, Normalization normalization)
            throws IOException {
        if (maxImages < 1) throw new IllegalArgumentException("at least one image must be asked for, got max " + maxImages);
        // crop_pct 1: the whole short side is kept, as the official visualisation resizes to the model's size.
        EvalTransform transform = new EvalTransform(size, 1.0, normalization);
        transform.checkChannels(channels);
        List<FloatImage> images = new ArrayList<>();
        List<String> names = new ArrayList<>(), skipped = new ArrayList<>();
        for (Path f : candidates(source)) {
            if (images.size() >= maxImages) break;
            try {
                if (isIdx(f)) {
                    Idx.UByteArray idx = Idx.readImages(f);
                    int h = idx.dims()[1], w = idx.dims()[2];
                    for (int i = 0; i < idx.count() && images.size() < maxImages; i++) {
                        images.add(idxImage(idx, i, h, w, channels));
                        names.add(f.getFileName() + "#" + i);
                    }
                } else {
                    images.add(ImageDecoder.read(f, channels));
                    names.add(f.getFileName().toString());
                }
            } catch (IOException | RuntimeException e) {
                // a bad file's message starts with the file already
                skipped.add(e instanceof org.maejvm.io.MalformedFileException m ? m.getMessage() : f + ": " + e.getMessage());
            }
        }
        if (images.isEmpty()) {
            throw new IOException("no readable images in " + source + " (looked for PNG, JPEG, BMP, GIF and IDX files"
                    + (skipped.isEmpty() ? ", found none" : "; unreadable: " + String.join("; ", skipped)) + ")");
        }
        int plane = channels * size * size;
        float[] out = new float[images.size() * plane];
        for (int i = 0; i < images.size(); i++) transform.apply(images.get(i), null, out, i * plane);
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

    /** Image {@code i} of an IDX array in [0, 1] (bytes / 255, as ToTensor), repeated over the channels. */
    private static FloatImage idxImage(Idx.UByteArray idx, int i, int h, int w, int channels) {
        int plane = h * w;
        float[] data = new float[channels * plane];
        for (int k = 0; k < plane; k++) data[k] = idx.at(i * plane + k) / 255f;
        for (int c = 1; c < channels; c++) System.arraycopy(data, 0, data, c * plane, plane);
        return new FloatImage(data, channels, h, w);
    }
}
