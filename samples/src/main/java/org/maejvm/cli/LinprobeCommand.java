package org.maejvm.cli;

import org.maejvm.train.DownstreamConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mae linprobe}: main_linprobe.py on the command line. */
@Command(name = "linprobe", sortOptions = false, description = {
    "Linear probing of a pretrained MAE encoder (official main_linprobe.py recipe: frozen encoder, cls token, "
            + "BatchNorm1d without affine + linear head, LARS, warmup + cosine lr), evaluating after every epoch.",
    "By default the frozen encoder runs once over the data (no augmentation) and the head trains on the cached "
            + "features; --no-cache-features runs the encoder every step with RandomResizedCrop + flip as official.",
    "Writes checkpoint-best/-last.safetensors, log.txt, eval.json and confusion.csv to --output-dir. "
            + "Defaults: 20 epochs (3 warmup), batch 256, lr 6.4 (the official blr 0.1 x 16384 / 256), weight decay 0."
})
final class LinprobeCommand extends DownstreamCommand {
    @Option(names = "--no-cache-features", description = "Run the encoder every step (with crop + flip augmentation).")
    boolean noCache;

    @Override DownstreamConfig.Mode mode() { return DownstreamConfig.Mode.LINPROBE; }

    @Override String defaultOutput() { return "linprobe_output"; }

    @Override
    void applyOwn(DownstreamConfig.Builder b) {
        if (noCache) b.cacheFeatures(false);
    }
}
