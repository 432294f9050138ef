package org.maejvm.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.maejvm.data.Cifar10;
import org.maejvm.data.Dataset;
import org.maejvm.data.FashionMnist;
import org.maejvm.data.FloatImage;
import org.maejvm.data.ImageFolder;
import org.maejvm.data.Normalization;
import org.maejvm.data.Sample;

/**
 * Opens the data set every executor reads its shard of, from a string that travels in the task: a folder that
 * every executor can see (an ImageFolder tree or a CIFAR-10 binary folder), {@code fashion-mnist} (installed on
 * every node), or {@code synthetic:<n>} (seeded smooth images of the model's size, for smoke tests and benchmarks).
 */
public final class DataSources {
    private DataSources() {}

    public static Dataset open(String spec, int channels, int size, Integer limit) throws IOException {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("no data: give a folder on shared storage, 'fashion-mnist' or 'synthetic:<n>'");
        }
        Dataset ds;
        if (spec.startsWith("synthetic:")) {
            int n;
            try {
                n = Integer.parseInt(spec.substring("synthetic:".length()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("data '" + spec + "': synthetic needs an image count, e.g. synthetic:256");
            }
            ds = synthetic(n, channels, size);
        } else if (spec.equalsIgnoreCase("fashion-mnist") || spec.equalsIgnoreCase("fashion_mnist")) {
            ds = FashionMnist.train();
        } else {
            Path dir = Path.of(spec);
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException("data '" + spec + "' is not a folder on this node; give a folder on "
                        + "storage every executor sees, 'fashion-mnist' or 'synthetic:<n>'");
            }
            ds = Files.exists(dir.resolve("data_batch_1.bin")) ? Cifar10.train(dir) : new ImageFolder(dir, channels);
        }
        if (ds.channels() != channels) {
            throw new IllegalArgumentException("the data has " + ds.channels() + " channel(s) but the model expects " + channels);
        }
        return limit == null || limit >= ds.size() ? ds : first(ds, limit);
    }

    /** {@code n} images of {@code channels x size x size}: a random plane plus noise per image, from the index. */
    public static Dataset synthetic(int n, int channels, int size) {
        if (n < 1) throw new IllegalArgumentException("synthetic data needs at least 1 image, got " + n);
        return new Dataset() {
            @Override public int size() { return n; }
            @Override public List<String> classNames() { return List.of("0"); }
            @Override public int channels() { return channels; }
            @Override public Normalization normalization() { return Normalization.defaultFor(channels); }
            @Override public Sample read(int index) {
                Dataset.checkIndex(index, n);
                SplittableRandom rng = new SplittableRandom(0x5EED_0000L + index);
                float[] px = new float[channels * size * size];
                for (int c = 0; c < channels; c++) {
                    double a = rng.nextDouble(), b = rng.nextDouble(), d = rng.nextDouble();
                    for (int y = 0; y < size; y++) {
                        for (int x = 0; x < size; x++) {
                            double v = 0.5 * (a * x + b * y) / size + 0.5 * d + 0.05 * rng.nextGaussian();
                            px[(c * size + y) * size + x] = (float) Math.min(1, Math.max(0, v));
                        }
                    }
                }
                return new Sample(new FloatImage(px, channels, size, size), 0);
            }
        };
    }

    private static Dataset first(Dataset ds, int n) {
        return new Dataset() {
            @Override public int size() { return n; }
            @Override public List<String> classNames() { return ds.classNames(); }
            @Override public int channels() { return ds.channels(); }
            @Override public Normalization normalization() { return ds.normalization(); }
            @Override public Sample read(int index) throws IOException {
                Dataset.checkIndex(index, n);
                return ds.read(index);
            }
            @Override public String describe(int index) { return ds.describe(index); }
        };
    }
}
