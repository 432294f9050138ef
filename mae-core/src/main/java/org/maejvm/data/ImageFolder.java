package org.maejvm.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * torchvision's {@code ImageFolder}: {@code root/<class>/**&#47;<image>}, classes are the sorted sub-folder names
 * (label = position), and within a class folder files are listed folder by folder (sorted by path) and by sorted
 * name, so items get the same indices and labels as in PyTorch. Files are picked by torchvision's image extensions;
 * decoding is ImageIO's (JPEG, PNG, BMP, TIFF, ...; formats it cannot read, such as WebP, are skipped by the
 * loader as unreadable).
 */
public final class ImageFolder implements Dataset {
    /** torchvision's IMG_EXTENSIONS. */
    public static final List<String> EXTENSIONS =
            List.of(".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp");

    private final Path root;
    private final List<String> classNames;
    private final List<Path> files;
    private final int[] labels;
    private final int channels;

    /** RGB images from {@code root}. */
    public ImageFolder(Path root) throws IOException {
        this(root, 3);
    }

    /** Images from {@code root} converted to {@code channels} (1 = gray, 3 = RGB). */
    public ImageFolder(Path root, int channels) throws IOException {
        ImageDecoder.checkChannels(channels);
        if (!Files.isDirectory(root)) {
            throw new IOException("image folder " + root + " does not exist or is not a directory");
        }
        this.root = root;
        this.channels = channels;
        List<String> classes = new ArrayList<>();
        try (Stream<Path> entries = Files.list(root)) {
            entries.filter(Files::isDirectory).forEach(p -> classes.add(p.getFileName().toString()));
        }
        classes.sort(Comparator.naturalOrder());
        if (classes.isEmpty()) {
            throw new IOException("image folder " + root + " has no class sub-folders (expected root/<class>/<image>)");
        }
        List<Path> found = new ArrayList<>();
        List<Integer> foundLabels = new ArrayList<>();
        List<String> empty = new ArrayList<>();
        for (int label = 0; label < classes.size(); label++) {
            List<Path> inClass = listImages(root.resolve(classes.get(label)));
            if (inClass.isEmpty()) empty.add(classes.get(label));
            for (Path p : inClass) {
                found.add(p);
                foundLabels.add(label);
            }
        }
        if (!empty.isEmpty()) {
            throw new IOException("image folder " + root + ": no files with an image extension " + EXTENSIONS
                    + " in class folder(s) " + empty);
        }
        this.classNames = List.copyOf(classes);
        this.files = List.copyOf(found);
        this.labels = foundLabels.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Image files under {@code dir}, grouped by folder (sorted by path), sorted by name: os.walk order after sorted(). */
    private static List<Path> listImages(Path dir) throws IOException {
        Map<String, List<Path>> byFolder = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir, FileVisitOption.FOLLOW_LINKS)) {
            walk.filter(p -> hasImageExtension(p) && Files.isRegularFile(p))
                    .forEach(p -> byFolder.computeIfAbsent(p.getParent().toString(), k -> new ArrayList<>()).add(p));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        List<Path> out = new ArrayList<>();
        for (List<Path> files : byFolder.values()) {
            files.sort(Comparator.comparing(p -> p.getFileName().toString()));
            out.addAll(files);
        }
        return out;
    }

    static boolean hasImageExtension(Path p) {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        for (String ext : EXTENSIONS) {
            if (name.endsWith(ext)) return true;
        }
        return false;
    }

    @Override
    public int size() {
        return files.size();
    }

    @Override
    public List<String> classNames() {
        return classNames;
    }

    @Override
    public int channels() {
        return channels;
    }

    /** The file of item {@code index}. */
    public Path file(int index) {
        Dataset.checkIndex(index, files.size());
        return files.get(index);
    }

    /** Label of item {@code index} without decoding it. */
    public int label(int index) {
        Dataset.checkIndex(index, files.size());
        return labels[index];
    }

    @Override
    public Sample read(int index) throws IOException {
        return new Sample(ImageDecoder.read(file(index), channels), labels[index]);
    }

    @Override
    public String describe(int index) {
        return root.relativize(file(index)).toString();
    }

    @Override
    public String toString() {
        return "ImageFolder[" + root + ", " + files.size() + " images, " + classNames.size() + " classes]";
    }
}
