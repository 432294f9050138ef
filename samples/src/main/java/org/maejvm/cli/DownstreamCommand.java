package org.maejvm.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import me.tongfei.progressbar.ProgressBar;
import org.maejvm.data.Dataset;
import org.maejvm.eval.EvalResult;
import org.maejvm.model.EncoderWeights;
import org.maejvm.model.MaeConfig;
import org.maejvm.ops.Backend;
import org.maejvm.ops.Backends;
import org.maejvm.train.DownstreamCheckpoint;
import org.maejvm.train.DownstreamConfig;
import org.maejvm.train.DownstreamTrainer;
import org.maejvm.train.ModelPresets;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What {@code mae finetune}, {@code mae linprobe} and {@code mae attnprobe} share: the encoder to start from, the data, the run options
 * with the official names, progress bars, Ctrl-C saving a checkpoint, --resume. Options left out come from the
 * checkpoint given to --resume, else from the mode's defaults ({@link DownstreamConfig#defaults}).
 */
abstract class DownstreamCommand implements java.util.concurrent.Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", paramLabel = "FILE", description = "Pretrained encoder: a pretraining checkpoint "
            + "(e.g. mae-demo/checkpoint-last.safetensors), safetensors weights or an official .pth. Left out: a "
            + "randomly initialised encoder (the baseline).")
    Path checkpoint;

    @Option(names = "--model", paramLabel = "NAME", description = "Encoder preset when --checkpoint records no config "
            + "or is left out (default mae_vit_tiny_fmnist).")
    String model;

    @Option(names = "--data", paramLabel = "DIR|fashion-mnist", defaultValue = "fashion-mnist",
            description = "'fashion-mnist' (the bundled set; default), an image folder with train/ and val/ "
                    + "sub-folders of class folders, or a CIFAR-10 binary folder.")
    String data;

    @Option(names = "--epochs", description = "Epochs.") Integer epochs;
    @Option(names = "--batch-size", description = "Images per step.") Integer batchSize;
    @Option(names = "--blr", description = "Base lr: lr = blr * batch_size / 256.") Double blr;
    @Option(names = "--lr", description = "Absolute lr (overrides --blr).") Double lr;
    @Option(names = "--min-lr", description = "Lower bound of the cosine schedule.") Double minLr;
    @Option(names = "--warmup-epochs", description = "Epochs of linear warmup.") Double warmupEpochs;
    @Option(names = "--weight-decay", description = "Weight decay.") Double weightDecay;
    @Option(names = "--seed", description = "Seed of head init, data order, augmentation, drop path (default 0).") Long seed;

    @Option(names = "--limit", description = "Train on the first N training images only.") Integer limit;
    @Option(names = "--val-limit", description = "Evaluate on the first N validation images only.") Integer valLimit;
    @Option(names = "--crop-pct", description = "Eval crop ratio (default 1.0 for fashion-mnist/CIFAR, else 0.875).") Double cropPct;

    @Option(names = "--output-dir", paramLabel = "DIR", description = "Where checkpoints, log.txt, eval.json and confusion.csv go.")
    Path outputDir;

    @Option(names = "--resume", paramLabel = "FILE", description = "Continue from a checkpoint-last.safetensors of this command.")
    Path resume;

    @Option(names = "--backend", defaultValue = "simd", description = "simd (default) or reference.") String backend;
    @Option(names = "--threads", defaultValue = "0", description = "Compute threads (0 = all cores; default).") int threads;
    @Option(names = "--no-progress", description = "Print one line per epoch instead of progress bars.") boolean noProgress;

    abstract DownstreamConfig.Mode mode();

    abstract String defaultOutput();

    /** The mode's own options on top of the shared ones. */
    abstract void applyOwn(DownstreamConfig.Builder b);

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        DownstreamCheckpoint resumed = resume == null ? null : DownstreamCheckpoint.read(resume);
        // Resuming rebuilds the checkpoint's own classifier; otherwise the encoder of --checkpoint / --model.
        MaeConfig encoder = resumed == null ? encoderConfig() : null;
        DownstreamConfig config = buildConfig(resumed, encoder == null ? resumed.classifier().imgSize() : encoder.imgSize());
        try (Backend be = Backends.create(backend, threads)) {
            int channels = resumed != null ? resumed.classifier().inChans() : encoder.inChans();
            int imgSize = resumed != null ? resumed.classifier().imgSize() : encoder.imgSize();
            DataChoice choice = new DataChoice(data, DataChoice.Split.TRAIN);
            Dataset train = choice.open(channels, limit);
            Dataset val = new DataChoice(data, DataChoice.Split.VAL).open(channels, valLimit);
            DownstreamTrainer.Built built = resumed != null
                    ? new DownstreamTrainer.Built(new org.maejvm.model.VitClassifier(resumed.classifier(), be, config.seed()), null)
                    : DownstreamTrainer.newClassifier(config, encoder, train.numClasses(), checkpoint, be);
            if (built.report() != null) {
                out.println("encoder from " + checkpoint + ": " + built.report().loaded().size() + " tensors loaded"
                        + (built.report().missing().isEmpty() ? "" : "; newly initialised " + built.report().missing())
                        + (built.report().unexpected().isEmpty() ? "" : "; ignored " + built.report().unexpected()));
            } else if (resumed == null) {
                out.println("no --checkpoint: the encoder is randomly initialised (official MAE init), a baseline");
            }
            DownstreamTrainer trainer = new DownstreamTrainer(config, built.model(), train, val,
                    choice.cropPct(cropPct, imgSize));
            if (resume != null) trainer.resume(resume);
            out.printf(Locale.ROOT, "%s on %,d images (%d classes), evaluating on %,d; %d epochs, batch %d, lr %.3g, "
                            + "%s backend -> %s%n", switch (mode()) {
                        case FINETUNE -> "fine-tuning";
                        case LINPROBE -> "linear probing";
                        case ATTNPROBE -> "attentive probing";
                    },
                    train.size(), train.numClasses(), val.size(), config.epochs(), config.batchSize(), config.effectiveLr(),
                    be.name(), config.outputDir());
            if (mode() == DownstreamConfig.Mode.FINETUNE) {
                out.printf(Locale.ROOT, "augmentation: RandomResizedCrop %.2f-1 + flip, RandAugment %s, random erasing %.2f; "
                                + "layer decay %.2f, drop path %.2f, label smoothing %.2f, warmup %.1f epoch(s)%n",
                        config.cropScale(), config.aa() == null ? "off" : config.aa(), config.reprob(), config.layerDecay(),
                        config.dropPath(), config.smoothing(), config.warmupEpochs());
            }
            out.flush();
            return runWithCtrlC(out, trainer, !noProgress, config.outputDir());
        }
    }

    /** Runs the trainer with progress output; Ctrl-C asks it to stop and waits for its checkpoint. */
    static int runWithCtrlC(PrintWriter out, DownstreamTrainer trainer, boolean progress, String outputDir)
            throws Exception {
        AtomicBoolean stop = new AtomicBoolean(false);
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            if (finished.getCount() == 0) return;
            System.err.println("\ninterrupted: saving a checkpoint before exiting...");
            stop.set(true);
            try {
                finished.await();
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "mae-downstream-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        Console console = new Console(out, progress);
        try {
            DownstreamTrainer.Result r;
            try {
                r = trainer.listener(console).stopWhen(stop::get).run();
            } finally {
                console.close();
            }
            if (r.stopped() && outputDir != null) {
                out.println("stopped at " + trainer.position() + "; continue with --resume "
                        + Path.of(outputDir).resolve(DownstreamTrainer.LAST));
            }
            if (r.best() != null) {
                out.printf(Locale.ROOT, "best epoch %d: %s; checkpoint %s%n", r.bestEpoch() + 1, r.best().summary(),
                        r.bestCheckpoint());
            }
        } finally {
            out.flush();
            // Only now may an interrupted JVM exit: the checkpoint and the summary are out.
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running and has been waiting for us
            }
        }
        out.flush();
        return 0;
    }

    /** The encoder's config: recorded in --checkpoint, else --model, else the bundled set's tiny model. */
    MaeConfig encoderConfig() throws java.io.IOException {
        if (model != null) return ModelPresets.named(model);
        if (checkpoint != null) {
            MaeConfig c = EncoderWeights.recordedConfig(checkpoint);
            if (c == null) {
                throw new IllegalArgumentException(checkpoint + " records no model config: name it with --model "
                        + "(e.g. mae_vit_base_patch16)");
            }
            return c;
        }
        return ModelPresets.named("mae_vit_tiny_fmnist");
    }

    /** The mode's starting settings for an encoder of {@code imgSize} (fine-tuning picks a recipe by size). */
    DownstreamConfig.Builder defaults(int imgSize) {
        return DownstreamConfig.defaults(mode());
    }

    DownstreamConfig buildConfig(DownstreamCheckpoint resumed, int imgSize) {
        DownstreamConfig.Builder b = resumed != null ? resumed.config().toBuilder() : defaults(imgSize);
        if (resumed == null) b.outputDir(defaultOutput());
        if (epochs != null) b.epochs(epochs);
        if (batchSize != null) b.batchSize(batchSize);
        if (blr != null) b.blr(blr);
        if (lr != null) b.lr(lr);
        if (minLr != null) b.minLr(minLr);
        if (warmupEpochs != null) b.warmupEpochs(warmupEpochs);
        if (weightDecay != null) b.weightDecay(weightDecay);
        if (seed != null) b.seed(seed);
        if (outputDir != null) b.outputDir(outputDir.toString());
        applyOwn(b);
        return b.build();
    }

    /** Progress bars per phase (or nothing), and one line per epoch. */
    static final class Console implements DownstreamTrainer.Listener {
        private final PrintWriter out;
        private final boolean progress;
        private ProgressBar bar;
        private String phase = "";

        Console(PrintWriter out, boolean progress) {
            this.out = out;
            this.progress = progress;
        }

        @Override
        public synchronized void phase(String name, long total) {
            close();
            phase = name;
            if (progress) bar = Progress.bar(name, total);
        }

        @Override
        public synchronized void progress(long done) {
            if (bar != null) bar.stepTo(done);
        }

        @Override
        public synchronized void step(int epoch, int step, float loss, double lr) {
            if (bar != null) bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f lr %.2e", loss, lr));
        }

        @Override
        public synchronized void epochEnd(DownstreamTrainer.EpochResult r) {
            close();
            EvalResult e = r.eval();
            out.printf(Locale.ROOT, "epoch %d: train loss %.4f, lr %.3e | val acc1 %.2f%% acc%d %.2f%% loss %.4f%s (%.1f s)%n",
                    r.epoch() + 1, r.trainLoss(), r.trainLr(), 100 * e.top1(), e.k(), 100 * e.topK(), e.loss(),
                    r.best() ? " *best*" : "", r.seconds());
            out.flush();
        }

        synchronized void close() {
            if (bar != null) {
                bar.close();
                bar = null;
            }
        }
    }
}
