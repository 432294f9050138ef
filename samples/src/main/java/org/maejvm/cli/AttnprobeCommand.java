package org.maejvm.cli;

import org.maejvm.train.DownstreamConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mae attnprobe}: CAE's attentive probing (run_attentive.py) on the command line. */
@Command(name = "attnprobe", sortOptions = false, description = {
    "Attentive probing of a pretrained encoder as the CAE paper evaluates it: the encoder stays frozen; a learnable "
            + "query cross-attends to all its tokens (after the final norm), then BatchNorm1d without affine and a "
            + "linear head; SGD with momentum 0.9, warmup + cosine lr; evaluating after every epoch.",
    "By default the frozen encoder runs once over the data (no augmentation) and the probe trains on the cached "
            + "token features; --no-cache-features runs the encoder every step with RandomResizedCrop + flip.",
    "Writes checkpoint-best/-last.safetensors, log.txt, eval.json and confusion.csv to --output-dir; Ctrl-C saves a "
            + "checkpoint, --resume continues exactly. Defaults: 20 epochs (2 warmup), batch 256, lr 0.4 (CAE's), "
            + "weight decay 0."
})
final class AttnprobeCommand extends DownstreamCommand {
    @Option(names = "--no-cache-features", description = "Run the encoder every step (with crop + flip augmentation).")
    boolean noCache;

    @Option(names = "--crop-scale", paramLabel = "MIN", description = "With --no-cache-features: the smallest area "
            + "fraction RandomResizedCrop keeps (default 0.08).") Double cropScale;

    @Override DownstreamConfig.Mode mode() { return DownstreamConfig.Mode.ATTNPROBE; }

    @Override String defaultOutput() { return "attnprobe_output"; }

    @Override
    void applyOwn(DownstreamConfig.Builder b) {
        if (noCache) b.cacheFeatures(false);
        if (cropScale != null) b.cropMinScale(cropScale);
    }
}
