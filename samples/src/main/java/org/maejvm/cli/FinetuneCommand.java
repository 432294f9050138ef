package org.maejvm.cli;

import org.maejvm.train.DownstreamConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mae finetune}: main_finetune.py on the command line. */
@Command(name = "finetune", sortOptions = false, description = {
    "Fine-tune a pretrained MAE encoder for classification (official main_finetune.py recipe: AdamW with layer-wise "
            + "lr decay, warmup + cosine lr, label smoothing, drop path, RandAugment, random erasing, optional "
            + "Mixup/CutMix), evaluating top-1/top-5 after every epoch.",
    "Writes checkpoint-best.safetensors, checkpoint-last.safetensors, log.txt (one JSON object per epoch), eval.json "
            + "and confusion.csv (best epoch) to --output-dir. Ctrl-C saves a checkpoint; --resume continues exactly.",
    "Defaults (--recipe auto): for images up to 32 px (Fashion-MNIST, CIFAR) the small-image recipe: "
            + "RandomResizedCrop scale 0.35-1 + flip, no RandAugment, no random erasing, blr 1e-2, layer decay 0.85, "
            + "0.5 warmup epochs; for larger images the official one (RandAugment, erasing 0.25, crop 0.08-1, blr 1e-3, "
            + "layer decay 0.75). Both: 10 epochs, batch 64, drop path 0.1, smoothing 0.1. Options given override them."
})
final class FinetuneCommand extends DownstreamCommand {
    @Option(names = "--recipe", paramLabel = "auto|official|small", defaultValue = "auto", description = "Starting "
            + "settings: 'official' (main_finetune.py), 'small' (for 28-32 px images) or 'auto' (small up to 32 px; "
            + "default).") String recipe;
    @Option(names = "--layer-decay", description = "Layer-wise lr decay (default 0.75).") Double layerDecay;
    @Option(names = "--drop-path", description = "Stochastic depth rate (default 0.1).") Double dropPath;
    @Option(names = "--smoothing", description = "Label smoothing (default 0.1).") Double smoothing;
    @Option(names = "--mixup", description = "Mixup alpha (default 0: off).") Double mixup;
    @Option(names = "--cutmix", description = "CutMix alpha (default 0: off).") Double cutmix;
    @Option(names = "--mixup-prob", description = "Probability of mixing a batch (default 1).") Double mixupProb;
    @Option(names = "--mixup-switch-prob", description = "Probability of CutMix when both are on (default 0.5).") Double switchProb;
    @Option(names = "--aa", description = "RandAugment (default rand-m9-mstd0.5-inc1; 'none' turns it off).") String aa;
    @Option(names = "--reprob", description = "Random erasing probability (default 0.25).") Double reprob;
    @Option(names = "--crop-scale", paramLabel = "MIN", description = "Smallest area fraction RandomResizedCrop keeps "
            + "(default 0.08, the official; 0.35 suits 28x28 images).") Double cropScale;
    @Option(names = "--clip-grad", description = "Clip the gradient norm (default: off).") Double clipGrad;
    @Option(names = "--cls-token", description = "Classify the cls token instead of the average patch token.") boolean clsToken;

    @Override DownstreamConfig.Mode mode() { return DownstreamConfig.Mode.FINETUNE; }

    @Override String defaultOutput() { return "finetune_output"; }

    @Override
    DownstreamConfig.Builder defaults(int imgSize) {
        return switch (recipe.toLowerCase(java.util.Locale.ROOT)) {
            case "auto" -> DownstreamConfig.finetuneFor(imgSize);
            case "official" -> DownstreamConfig.finetune();
            case "small" -> DownstreamConfig.finetuneSmallImages();
            default -> throw new IllegalArgumentException("--recipe must be auto, official or small, got '" + recipe + "'");
        };
    }

    @Override
    void applyOwn(DownstreamConfig.Builder b) {
        if (layerDecay != null) b.layerDecay(layerDecay);
        if (dropPath != null) b.dropPath(dropPath);
        if (smoothing != null) b.smoothing(smoothing);
        if (mixup != null) b.mixup(mixup);
        if (cutmix != null) b.cutmix(cutmix);
        if (mixupProb != null) b.mixupProb(mixupProb);
        if (switchProb != null) b.mixupSwitchProb(switchProb);
        if (aa != null) b.aa(aa.equalsIgnoreCase("none") ? null : aa);
        if (reprob != null) b.reprob(reprob);
        if (clipGrad != null) b.clipGrad(clipGrad);
        if (cropScale != null) b.cropMinScale(cropScale);
        if (clsToken) b.globalPool(false);
    }
}
