package org.maejvm.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.maejvm.data.Cifar10;
import org.maejvm.data.Dataset;
import org.maejvm.data.EvalTransform;
import org.maejvm.data.FashionMnist;
import org.maejvm.data.ImageFolder;

/**
 * The data of the downstream commands: {@code fashion-mnist} (the bundled set, also what {@code mae demo}
 * pretrains on), a CIFAR-10 binary folder or an image folder (one sub-folder per class). {@code split} picks the
 * training or the validation part: for the bundled sets their train/test files; for an image folder the
 * {@code train/} or {@code val/} sub-folder when there is one (the official ImageNet layout), else the folder itself.
 */
record DataChoice(String data, Split split) {
    enum Split {
        TRAIN, VAL;

        static Split parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "train" -> TRAIN;
                case "val", "test" -> VAL;
                default -> throw new IllegalArgumentException("unknown split '" + s + "'; use train or val");
            };
        }
    }

    static boolean isBundled(String data) {
        return data == null || data.equalsIgnoreCase("fashion-mnist") || data.equalsIgnoreCase("fashion_mnist");
    }

    /** Opens the data, checks its channels against the model's, and cuts it to {@code limit} items if given. */
    Dataset open(int channels, Integer limit) throws IOException {
        Dataset ds;
        if (isBundled(data)) {
            ds = split == Split.TRAIN ? FashionMnist.train() : FashionMnist.test();
        } else {
            Path dir = Path.of(data);
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException("--data " + data + ": not a folder; give 'fashion-mnist', an image "
                        + "folder (one sub-folder per class, or train/ and val/ of those) or a CIFAR-10 binary folder");
            }
            if (Files.exists(dir.resolve("data_batch_1.bin"))) {
                ds = split == Split.TRAIN ? Cifar10.train(dir) : Cifar10.test(dir);
            } else {
                Path sub = dir.resolve(split == Split.TRAIN ? "train" : "val");
                ds = new ImageFolder(Files.isDirectory(sub) ? sub : dir, channels);
            }
        }
        if (ds.channels() != channels) {
            throw new IllegalArgumentException("the data has " + ds.channels() + " channel(s) but the model expects "
                    + channels + "; choose a checkpoint or model for this data");
        }
        if (limit != null) {
            if (limit < 1) throw new IllegalArgumentException("--limit must be >= 1, got " + limit);
            if (limit < ds.size()) ds = PretrainCommand.firstImages(ds, limit);
        }
        return ds;
    }

    /**
     * The eval transform's crop_pct: given, else 1.0 for the bundled sets and CIFAR (images already at the model's
     * size: a resize + centre crop would only zoom in), else the official 0.875 (224/256) or 1.0 above 224.
     */
    double cropPct(Double given, int imgSize) {
        if (given != null) return given;
        if (isBundled(data) || Files.exists(Path.of(data).resolve("data_batch_1.bin"))) return 1.0;
        return EvalTransform.officialCropPct(imgSize);
    }
}
