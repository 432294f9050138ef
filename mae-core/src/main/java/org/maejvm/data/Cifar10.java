package org.maejvm.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.maejvm.io.MalformedFileException;

/**
 * CIFAR-10 in its binary version ({@code cifar-10-batches-bin}): each record is 1 label byte then 3072 pixel bytes,
 * the 32x32 red plane, then green, then blue (already CHW). Files are read whole into memory (30 MB per 10,000).
 */
public final class Cifar10 implements Dataset {
    public static final int SIDE = 32;
    public static final int RECORD = 1 + 3 * SIDE * SIDE;
    /** The class names in label order, as in {@code batches.meta.txt}. */
    public static final List<String> CLASSES = List.of(
            "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");

    /** Largest batch file read (whole) into memory: the real ones are 30 MB. */
    static final long MAX_FILE_BYTES = 1L << 30;

    private final byte[][] files;
    private final int[] firstIndex; // dataset index of each file's first record
    private final int count;
    private final List<String> names;
    private final List<String> classNames;

    /** Reads the given batch files in order. */
    public Cifar10(List<Path> batchFiles, List<String> classNames) throws IOException {
        if (batchFiles.isEmpty()) throw new IllegalArgumentException("no CIFAR-10 batch files given");
        this.files = new byte[batchFiles.size()][];
        this.firstIndex = new int[batchFiles.size()];
        this.names = new ArrayList<>();
        this.classNames = List.copyOf(classNames);
        int total = 0;
        for (int f = 0; f < batchFiles.size(); f++) {
            Path p = batchFiles.get(f);
            long size = Files.size(p);
            if (size == 0 || size % RECORD != 0 || size > MAX_FILE_BYTES) {
                throw new MalformedFileException(p, size + " bytes is not a whole number of " + RECORD
                        + "-byte CIFAR-10 records (1 label + 3x32x32 pixels) between 1 and "
                        + MAX_FILE_BYTES / RECORD + " records");
            }
            byte[] bytes = Files.readAllBytes(p);
            if (bytes.length != size) {
                throw new MalformedFileException(p, "changed size while being read (" + size + " then "
                        + bytes.length + " bytes)");
            }
            for (int r = 0; r < bytes.length / RECORD; r++) {
                int label = bytes[r * RECORD] & 0xff;
                if (label >= this.classNames.size()) {
                    throw new MalformedFileException(p, "record " + r + " has label " + label
                            + ", valid labels are 0.." + (this.classNames.size() - 1));
                }
            }
            files[f] = bytes;
            firstIndex[f] = total;
            names.add(p.getFileName().toString());
            total += bytes.length / RECORD;
        }
        this.count = total;
    }

    /** The five training batches {@code data_batch_1.bin .. data_batch_5.bin} of {@code dir}. */
    public static Cifar10 train(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        for (int i = 1; i <= 5; i++) files.add(requireFile(dir.resolve("data_batch_" + i + ".bin")));
        return new Cifar10(files, classNames(dir));
    }

    /** The test batch {@code test_batch.bin} of {@code dir}. */
    public static Cifar10 test(Path dir) throws IOException {
        return new Cifar10(List.of(requireFile(dir.resolve("test_batch.bin"))), classNames(dir));
    }

    /** Class names from {@code batches.meta.txt} when present, else the standard ten. */
    static List<String> classNames(Path dir) throws IOException {
        Path meta = dir.resolve("batches.meta.txt");
        if (!Files.isRegularFile(meta)) return CLASSES;
        List<String> names = new ArrayList<>();
        for (String line : Files.readAllLines(meta, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) names.add(line.strip());
        }
        return names.isEmpty() ? CLASSES : names;
    }

    private static Path requireFile(Path p) throws IOException {
        if (!Files.isRegularFile(p)) {
            throw new IOException("CIFAR-10 batch file " + p + " not found; expected the binary version's "
                    + "data_batch_1.bin .. data_batch_5.bin and test_batch.bin in " + p.getParent());
        }
        return p;
    }

    @Override
    public int size() {
        return count;
    }

    @Override
    public List<String> classNames() {
        return classNames;
    }

    @Override
    public int channels() {
        return 3;
    }

    @Override
    public Normalization normalization() {
        return Normalization.IMAGENET;
    }

    @Override
    public Sample read(int index) {
        Dataset.checkIndex(index, count);
        int f = fileOf(index);
        byte[] bytes = files[f];
        int base = (index - firstIndex[f]) * RECORD;
        float[] out = new float[RECORD - 1];
        for (int i = 0; i < out.length; i++) out[i] = (bytes[base + 1 + i] & 0xff) / 255f;
        return new Sample(new FloatImage(out, 3, SIDE, SIDE), bytes[base] & 0xff);
    }

    @Override
    public String describe(int index) {
        Dataset.checkIndex(index, count);
        int f = fileOf(index);
        return names.get(f) + "#" + (index - firstIndex[f]);
    }

    private int fileOf(int index) {
        int f = files.length - 1;
        while (firstIndex[f] > index) f--;
        return f;
    }
}
