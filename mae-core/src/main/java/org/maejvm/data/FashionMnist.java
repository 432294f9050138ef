package org.maejvm.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The bundled default data: Fashion-MNIST (Zalando, MIT licence; 60,000 training and 10,000 test images of
 * 28x28 gray, 10 classes) as installed by Debian's {@code dataset-fashion-mnist} package.
 *
 * <p>The folder is, in order: the system property {@value #DIR_PROPERTY}, the environment variable
 * {@value #DIR_ENV}, or the package's folder {@value #DEBIAN_DIR}. If the default folder lacks the files and the
 * process runs as root, the package is installed with apt-get (said on stderr); otherwise the error names the one
 * command to run.
 */
public final class FashionMnist {
    public static final String DIR_PROPERTY = "maejvm.fashionMnist.dir";
    public static final String DIR_ENV = "MAE_FASHION_MNIST_DIR";
    public static final String DEBIAN_DIR = "/usr/share/datasets/fashion-mnist";
    public static final String PACKAGE = "dataset-fashion-mnist";
    public static final String INSTALL_COMMAND = "sudo apt-get install -y " + PACKAGE;

    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte.gz";
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte.gz";
    public static final String TEST_IMAGES = "t10k-images-idx3-ubyte.gz";
    public static final String TEST_LABELS = "t10k-labels-idx1-ubyte.gz";
    private static final List<String> FILES = List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS);

    /** Class names by label. */
    public static final List<String> CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    private FashionMnist() {}

    /** The 60,000 training images, installing the package first if needed and allowed. */
    public static IdxDataset train() throws IOException {
        return train(locate(true));
    }

    /** The 10,000 test images. */
    public static IdxDataset test() throws IOException {
        return test(locate(true));
    }

    public static IdxDataset train(Path dir) throws IOException {
        return open(dir, TRAIN_IMAGES, TRAIN_LABELS);
    }

    public static IdxDataset test(Path dir) throws IOException {
        return open(dir, TEST_IMAGES, TEST_LABELS);
    }

    private static IdxDataset open(Path dir, String images, String labels) throws IOException {
        requireFiles(dir);
        return new IdxDataset(dir.resolve(images), dir.resolve(labels), CLASSES, Normalization.FASHION_MNIST);
    }

    /** The folder holding the four files; with {@code mayInstall}, apt-get installs the package when run as root. */
    public static Path locate(boolean mayInstall) throws IOException {
        String configured = System.getProperty(DIR_PROPERTY);
        if (configured == null || configured.isBlank()) configured = System.getenv(DIR_ENV);
        if (configured != null && !configured.isBlank()) {
            Path dir = Path.of(configured);
            requireFiles(dir);
            return dir;
        }
        Path dir = Path.of(DEBIAN_DIR);
        if (missing(dir).isEmpty()) return dir;
        if (mayInstall && isRoot() && hasAptGet()) {
            install();
            if (missing(dir).isEmpty()) return dir;
        }
        requireFiles(dir);
        return dir;
    }

    /** Files of the four that are not in {@code dir}. */
    static List<String> missing(Path dir) {
        List<String> absent = new ArrayList<>();
        for (String f : FILES) {
            if (!Files.isRegularFile(dir.resolve(f))) absent.add(f);
        }
        return absent;
    }

    static void requireFiles(Path dir) throws IOException {
        List<String> absent = missing(dir);
        if (!absent.isEmpty()) {
            throw new IOException("Fashion-MNIST not found: " + dir + " lacks " + absent + ". Install it with:\n  "
                    + INSTALL_COMMAND + "\nor point -D" + DIR_PROPERTY + " or $" + DIR_ENV
                    + " at a folder holding " + FILES + " (gzipped or plain IDX files under these names).");
        }
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static boolean hasAptGet() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "apt-get"))) return true;
        }
        return false;
    }

    private static void install() throws IOException {
        System.err.println("Fashion-MNIST is missing: installing the Debian package " + PACKAGE + " with apt-get");
        if (run("apt-get", "install", "-y", PACKAGE) != 0) {
            System.err.println("apt-get install failed; running apt-get update and trying again");
            run("apt-get", "update");
            int rc = run("apt-get", "install", "-y", PACKAGE);
            if (rc != 0) {
                throw new IOException("apt-get install -y " + PACKAGE + " failed with exit code " + rc
                        + "; install it yourself with: " + INSTALL_COMMAND);
            }
        }
    }

    /** Runs a command with its output copied to stderr, so stdout stays the caller's. */
    private static int run(String... command) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
        Process p = pb.start();
        try (InputStream out = p.getInputStream()) {
            out.transferTo(System.err);
            return p.waitFor();
        } catch (InterruptedException e) {
            p.destroy();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + String.join(" ", command), e);
        }
    }
}
