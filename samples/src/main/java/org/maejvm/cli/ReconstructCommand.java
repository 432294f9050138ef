package org.maejvm.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.maejvm.data.Normalization;
import org.maejvm.model.MaeConfig;
import org.maejvm.ops.Backend;
import org.maejvm.tensor.Tensor;
import org.maejvm.train.ModelPresets;
import org.maejvm.viz.ImageInputs;
import org.maejvm.viz.ModelFiles;
import org.maejvm.viz.Reconstruction;
import org.maejvm.viz.ReconstructionGrid;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code mae reconstruct}: masks images at random, lets a pretrained MAE fill them in, and draws the official
 * four-panel figure (original | masked | reconstruction | reconstruction + visible) as a PNG.
 */
@Command(name = "reconstruct", sortOptions = false, description = {
    "Draw MAE reconstructions of images: original | masked | reconstruction | reconstruction + visible patches.",
    "Reads a pretraining checkpoint (its config is inside), a safetensors weights file or an official .pth "
            + "(these two need --model or --config), and PNG/JPEG/IDX images from a file or a folder."
})
final class ReconstructCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", required = true, paramLabel = "FILE",
            description = "Model weights: a pretraining checkpoint (.safetensors), plain safetensors weights or a PyTorch .pth.")
    Path checkpoint;

    @Option(names = "--images", required = true, paramLabel = "DIR|FILE",
            description = "An image file or a folder (searched recursively): PNG, JPEG, BMP, GIF, IDX (e.g. t10k-images-idx3-ubyte.gz).")
    Path images;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "reconstruction.png",
            description = "Where to write the PNG (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--mask-ratio", defaultValue = "0.75", description = "Fraction of patches removed (default: ${DEFAULT-VALUE}).")
    double maskRatio;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the random masking (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--backend", defaultValue = "simd", description = "Compute backend: simd, reference, ... (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--threads", defaultValue = "0", description = "Worker threads, 0 = all cores (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--device", defaultValue = "0", paramLabel = "N",
            description = "TornadoVM device for --backend tornado, numbered as 'mae devices' lists them (default: 0).")
    int device;

    @Option(names = "--max-images", defaultValue = "8", description = "At most this many images, one row each (default: ${DEFAULT-VALUE}).")
    int maxImages;

    @Option(names = "--model", paramLabel = "NAME",
            description = "Model preset for weights that carry no config: mae_vit_base_patch16, mae_vit_large_patch16, "
                    + "mae_vit_huge_patch14, mae_vit_tiny_fmnist, mae_vit_small_cifar.")
    String model;

    @Option(names = "--config", paramLabel = "FILE", description = "Model config JSON (img_size, patch_size, in_chans, ...) for weights that carry none.")
    Path config;

    @Option(names = "--norm-pix-loss", arity = "0..1", paramLabel = "true|false",
            description = "Whether the model was trained with norm_pix_loss, when its file does not say "
                    + "(official *_full.pth pretraining checkpoints: true; the visualize checkpoints: false).")
    Boolean normPix;

    @Option(names = "--mean", split = ",", paramLabel = "M",
            description = "Per-channel mean the model's training data was normalised with (default: ImageNet for RGB, Fashion-MNIST 0.2860 for grey).")
    float[] mean;

    @Option(names = "--std", split = ",", paramLabel = "S",
            description = "Per-channel std of that normalisation (default: ImageNet for RGB, Fashion-MNIST 0.3530 for grey).")
    float[] std;

    @Override
    public Integer call() throws Exception {
        if (model != null && config != null) {
            throw new ParameterException(spec.commandLine(), "give either --model or --config, not both");
        }
        if (maxImages < 1) throw new ParameterException(spec.commandLine(), "--max-images must be >= 1, got " + maxImages);
        if ((mean == null) != (std == null)) throw new ParameterException(spec.commandLine(), "give --mean and --std together");
        MaeConfig explicit = model != null ? ModelPresets.named(model) : config != null ? ModelFiles.readConfig(config) : null;
        PrintWriter stdout = spec.commandLine().getOut();
        try (Backend be = CliBackends.open(CliBackends.withDevice(backend, device), threads)) {
            ModelFiles.Loaded loaded = ModelFiles.load(checkpoint, explicit, model, normPix, be);
            MaeConfig cfg = loaded.model().config();
            int c = cfg.inChans();
            Normalization norm = normalization(c);
            ImageInputs.Batch batch = ImageInputs.read(images, c, cfg.imgSize(), maxImages, norm);
            for (String skip : batch.skipped()) stdout.println("skipped " + skip);
            Tensor imgs = be.fromHost(batch.images(), batch.count(), c, cfg.imgSize(), cfg.imgSize());
            Reconstruction r = Reconstruction.run(loaded.model(), imgs, maskRatio, seed);
            ReconstructionGrid.Figure fig = ReconstructionGrid.render(r, norm, loaded.name());
            Path written = fig.writePng(out);
            stdout.printf(Locale.ROOT, "wrote %s: %d image(s), %dx%d px; model %s, mask ratio %.2f, loss %.4f%s%n",
                    written, batch.count(), fig.image().getWidth(), fig.image().getHeight(), loaded.name(), maskRatio,
                    r.loss(), cfg.normPixLoss() ? " (norm_pix_loss: predictions un-normalised per patch)" : "");
            if (mean == null) {
                stdout.println("images normalised with " + norm + " (set --mean/--std if the model was trained with other statistics)");
            }
            stdout.flush();
        }
        return 0;
    }

    /** --mean/--std, or the usual statistics: ImageNet for RGB, Fashion-MNIST for grey (the demo's data). */
    Normalization normalization(int channels) {
        if (mean != null) return new Normalization(mean, std);
        return channels == 1 ? Normalization.FASHION_MNIST : Normalization.defaultFor(channels);
    }
}
