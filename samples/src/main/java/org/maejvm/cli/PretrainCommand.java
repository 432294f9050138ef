package org.maejvm.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.maejvm.api.Pretraining;
import org.maejvm.data.Cifar10;
import org.maejvm.data.DataLoader;
import org.maejvm.data.Dataset;
import org.maejvm.data.FashionMnist;
import org.maejvm.data.ImageFolder;
import org.maejvm.data.Normalization;
import org.maejvm.data.Sample;
import org.maejvm.model.CaeConfig;
import org.maejvm.ops.Backend;
import org.maejvm.train.Checkpoint;
import org.maejvm.train.EpochSource;
import org.maejvm.train.ModelPresets;
import org.maejvm.train.PretrainConfig;
import org.maejvm.train.TrainingEvent;
import org.maejvm.train.TrainingListener;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mae pretrain}: main_pretrain.py on the command line. Options left out come from --config, else from the
 * checkpoint given to --resume, else from the official defaults. Ctrl-C saves a checkpoint, then exits.
 */
@Command(name = "pretrain", sortOptions = false, description = {
    "Pretrain a Masked Autoencoder (official main_pretrain.py recipe: AdamW, warmup + cosine lr, masked MSE), "
            + "or with --method cae a Context Autoencoder (Chen et al. 2022) through the same loop.",
    "Writes checkpoint-<epoch>.safetensors, checkpoint-last.safetensors, log.txt (one JSON object per line) and "
            + "log.png (loss and lr) to --output. Ctrl-C saves a checkpoint and exits; --resume continues exactly.",
    "Models: mae_vit_tiny_fmnist (28x28x1, patch 7, ~0.55 M parameters: minutes on a CPU), mae_vit_small_cifar "
            + "(32x32x3), mae_vit_base_patch16, mae_vit_large_patch16, mae_vit_huge_patch14."
})
final class PretrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--data", paramLabel = "DIR|fashion-mnist",
            description = "Training images: 'fashion-mnist' (the bundled set; default), a folder of class folders "
                    + "of images (ImageFolder), or a CIFAR-10 binary folder (data_batch_*.bin).")
    String data;

    @Option(names = "--model", paramLabel = "NAME", description = "Model preset (default mae_vit_tiny_fmnist).")
    String model;

    @Option(names = "--config", paramLabel = "FILE", description = "Pretraining config JSON (official argument names); "
            + "options given here override it.")
    Path configFile;

    @Option(names = "--epochs", description = "Epochs (default 400 as official; the tiny model wants ~10).")
    Integer epochs;

    @Option(names = "--batch-size", description = "Images per step and process (default 64).")
    Integer batchSize;

    @Option(names = "--accum-iter", description = "Steps whose gradients are accumulated per optimizer step (default 1).")
    Integer accumIter;

    @Option(names = "--blr", description = "Base lr: lr = blr * batch_size * accum_iter / 256 (default 1.5e-4).")
    Double blr;

    @Option(names = "--lr", description = "Absolute lr (overrides --blr).")
    Double lr;

    @Option(names = "--min-lr", description = "Lower bound of the cosine schedule (default 0).")
    Double minLr;

    @Option(names = "--warmup-epochs", description = "Epochs of linear lr warmup (default 40, or 1/10 of the epochs if fewer).")
    Double warmupEpochs;

    @Option(names = "--weight-decay", description = "AdamW weight decay (default 0.05).")
    Double weightDecay;

    @Option(names = "--mask-ratio", description = "Fraction of patches removed (default 0.75).")
    Double maskRatio;

    @Option(names = "--method", paramLabel = "mae|cae", description = "Pretraining method: mae (default) or cae "
            + "(Context Autoencoder: regressor, EMA teacher alignment, decoder on masked patches; defaults to block "
            + "masking at ratio 0.5, as the paper's 98 of 196 patches).")
    String method;

    @Option(names = "--mask-strategy", paramLabel = "SPEC", description = "Which patches to mask: random (MAE's), "
            + "block[:min=N,max=N,aspect=A] (BEiT/CAE blocks), grid[:cell=K,offset=fixed|random] (one kept patch per "
            + "KxK cell; ratio 1-1/K^2), focus[:x0=,y0=,x1=,y1=,weight=W] (box in image fractions masked W times as "
            + "likely). Default: random for mae, block for cae.")
    String maskStrategy;

    @Option(names = "--align-loss-weight", description = "CAE: weight of the alignment loss (default 2).")
    Double alignLossWeight;

    @Option(names = "--base-momentum", description = "CAE: EMA momentum of the teacher, applied once per optimizer step "
            + "(default 0, as official: a copy).")
    Double baseMomentum;

    @Option(names = "--drop-path", description = "CAE: stochastic-depth rate of the last block of encoder, regressor and "
            + "decoder, rising linearly from 0 (default 0.1, as official for base; 0 turns it off).")
    Double dropPath;

    @Option(names = "--cae-decoder-embed-dim", paramLabel = "N", description = "CAE: width of the regressor and decoder "
            + "(default: the encoder's; another width adds the official encoder_to_decoder projection).")
    Integer caeDecoderEmbedDim;

    @Option(names = "--norm-pix-loss", description = "Predict per-patch normalised pixels (official flag).")
    Boolean normPixLoss;

    @Option(names = "--clip-grad", description = "Clip the total gradient L2 norm to this (default: no clipping).")
    Double clipGrad;

    @Option(names = "--seed", description = "Seed of init, data order, augmentation and masking (default 0).")
    Long seed;

    @Option(names = "--output", paramLabel = "DIR", description = "Output folder (default ./output_dir).")
    Path output;

    @Option(names = "--resume", paramLabel = "FILE", description = "Continue from a checkpoint (e.g. output_dir/checkpoint-last.safetensors).")
    Path resume;

    @Option(names = "--keep-last", description = "Numbered checkpoints to keep (default 3).")
    Integer keepLast;

    @Option(names = "--save-every-steps", description = "Also checkpoint every N steps (default 0: only at epoch ends).")
    Integer saveEverySteps;

    @Option(names = "--log-freq", description = "Write a step line to log.txt every N steps (default 20).")
    Integer logFreq;

    @Option(names = "--limit", description = "Use only the first N images of the data set.")
    Integer limit;

    @Option(names = "--backend", defaultValue = "simd", description = "simd (default), reference, or any listed by 'mae backends'.")
    String backend;

    @Option(names = "--threads", defaultValue = "0", description = "Compute threads (0 = all cores; default).")
    int threads;

    @Option(names = "--device", defaultValue = "0", paramLabel = "N",
            description = "TornadoVM device for --backend tornado, numbered as 'mae devices' lists them (default: 0).")
    int device;

    @Option(names = "--no-progress", description = "Print one line per epoch instead of a progress bar.")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        PretrainConfig config = buildConfig();
        Dataset dataset = openData(data, config.modelConfig().inChans(), limit);
        return train(spec.commandLine().getOut(), config, dataset, CliBackends.withDevice(backend, device), threads, resume,
                !noProgress, null);
    }

    /** --config, else the checkpoint's config when resuming, else the defaults; then the options given. */
    PretrainConfig buildConfig() throws IOException {
        PretrainConfig.Builder b;
        if (configFile != null) b = PretrainConfig.read(configFile).toBuilder();
        else if (resume != null) b = Checkpoint.read(resume).config().toBuilder();
        else b = PretrainConfig.builder().model("mae_vit_tiny_fmnist").outputDir("output_dir");
        if (model != null) b.model(model);
        if (epochs != null) {
            b.epochs(epochs);
            // The official 40 warmup epochs would swallow a short run.
            if (warmupEpochs == null && configFile == null && resume == null) b.warmupEpochs(Math.min(40, epochs / 10.0));
        }
        if (batchSize != null) b.batchSize(batchSize);
        if (accumIter != null) b.accumIter(accumIter);
        if (blr != null) b.blr(blr);
        if (lr != null) b.lr(lr);
        if (minLr != null) b.minLr(minLr);
        if (warmupEpochs != null) b.warmupEpochs(warmupEpochs);
        if (weightDecay != null) b.weightDecay(weightDecay);
        if (method != null) b.method(method.toLowerCase(Locale.ROOT));
        if (maskStrategy != null) b.maskStrategy(maskStrategy);
        boolean fresh = configFile == null && resume == null;
        PretrainConfig sofar = b.build();
        // CAE's recipe masks 98 of 196 patches; only when nothing else chose a ratio.
        if (maskRatio == null && fresh && sofar.isCae()) b.maskRatio(0.5);
        if (maskRatio != null) b.maskRatio(maskRatio);
        if (alignLossWeight != null || baseMomentum != null || dropPath != null || caeDecoderEmbedDim != null) {
            if (!sofar.isCae()) {
                throw new IllegalArgumentException("--align-loss-weight, --base-momentum, --drop-path and "
                        + "--cae-decoder-embed-dim need --method cae");
            }
            CaeConfig cae = sofar.caeConfig();
            if (alignLossWeight != null) cae = cae.withAlignLossWeight(alignLossWeight);
            if (baseMomentum != null) cae = cae.withBaseMomentum(baseMomentum);
            if (dropPath != null) cae = cae.withDropPath(dropPath);
            if (caeDecoderEmbedDim != null) cae = cae.withDecoder(caeDecoderEmbedDim, cae.decoderNumHeads());
            b.cae(cae);
        }
        if (normPixLoss != null) b.normPixLoss(normPixLoss);
        if (clipGrad != null) b.clipGrad(clipGrad);
        if (seed != null) b.seed(seed);
        if (output != null) b.outputDir(output);
        if (keepLast != null) b.keepLast(keepLast);
        if (saveEverySteps != null) b.saveEverySteps(saveEverySteps);
        if (logFreq != null) b.logFreq(logFreq);
        return b.build().validate();
    }

    /** The data set named by --data, checked against the model's channels, optionally cut to its first images. */
    static Dataset openData(String data, int channels, Integer limit) throws IOException {
        Dataset ds;
        if (data == null || data.equalsIgnoreCase("fashion-mnist") || data.equalsIgnoreCase("fashion_mnist")) {
            ds = FashionMnist.train();
        } else {
            Path dir = Path.of(data);
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException("--data " + data + ": not a folder; give 'fashion-mnist', an image "
                        + "folder (one sub-folder per class) or a CIFAR-10 binary folder");
            }
            ds = Files.exists(dir.resolve("data_batch_1.bin")) ? Cifar10.train(dir) : new ImageFolder(dir, channels);
        }
        if (ds.channels() != channels) {
            throw new IllegalArgumentException("the data has " + ds.channels() + " channel(s) but the model expects "
                    + channels + "; choose a model for this data (e.g. --model mae_vit_tiny_fmnist for gray images)");
        }
        if (limit != null) {
            if (limit < 1) throw new IllegalArgumentException("--limit must be >= 1, got " + limit);
            if (limit < ds.size()) ds = firstImages(ds, limit);
        }
        return ds;
    }

    /** The first {@code n} items of a data set. */
    static Dataset firstImages(Dataset ds, int n) {
        return new Dataset() {
            @Override public int size() { return n; }
            @Override public List<String> classNames() { return ds.classNames(); }
            @Override public int channels() { return ds.channels(); }
            @Override public Sample read(int index) throws IOException {
                Dataset.checkIndex(index, n);
                return ds.read(index);
            }
            @Override public String describe(int index) { return ds.describe(index); }
            @Override public Normalization normalization() { return ds.normalization(); }
        };
    }

    /**
     * Trains with a progress bar or epoch lines, saving a checkpoint on Ctrl-C; prints a summary. Returns the exit
     * code. {@code extra} (may be null) sees every event too.
     */
    static int train(PrintWriter out, PretrainConfig config, Dataset dataset, String backendName, int threads,
                     Path resume, boolean progress, TrainingListener extra) throws Exception {
        DataLoader loader = DataLoader.forPretraining(dataset, config.modelConfig().imgSize(), config.batchSize(),
                config.seed());
        EpochSource source = EpochSource.of(loader);
        if (source.stepsPerEpoch() < 1) {
            throw new IllegalArgumentException("the data has " + dataset.size() + " images, fewer than one batch of "
                    + config.batchSize() + "; lower --batch-size");
        }
        try (Backend backend = CliBackends.open(backendName, threads)) {
            Console console = new Console(out, config, progress);
            TrainingListener listener = extra == null ? console : e -> { console.onEvent(e); extra.onEvent(e); };
            out.printf(Locale.ROOT, "pretraining %s on %d images (%d steps/epoch) with the %s backend, %d epochs, "
                            + "batch %d x accum %d, lr %.3g -> %s%n", describe(config), dataset.size(), source.stepsPerEpoch(),
                    backend.name(), config.epochs(), config.batchSize(), config.accumIter(), config.effectiveLr(),
                    config.outputDir());
            out.flush();
            Pretraining.Run run = Pretraining.start(config, source, backend, resume, listener);
            // Ctrl-C: ask the loop to stop at its next checkpoint point and wait for that checkpoint.
            Thread hook = new Thread(() -> {
                if (run.isDone()) return;
                System.err.println("\ninterrupted: saving a checkpoint before exiting...");
                try {
                    TrainingEvent.Finished f = run.stopAndAwait();
                    System.err.println("saved " + f.lastCheckpoint() + "; continue with --resume " + f.lastCheckpoint());
                } catch (Exception e) {
                    System.err.println("could not save a checkpoint: " + ErrorReporter.describe(e));
                }
            }, "mae-pretrain-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            TrainingEvent.Finished f;
            try {
                f = run.await();
            } finally {
                console.close();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is already running and reports itself
                }
            }
            out.printf(Locale.ROOT, "%s after %d steps (epoch %d) in %.1f s; last loss %.4f; checkpoint %s%n",
                    f.stopped() ? "stopped" : "done", f.globalStep(), f.epoch(), f.seconds(), f.lastLoss(),
                    f.lastCheckpoint());
            if (config.outputDir() != null) {
                out.println("log: " + Path.of(config.outputDir()).resolve("log.txt") + ", plot: "
                        + Path.of(config.outputDir()).resolve("log.png"));
            }
            out.flush();
            return 0;
        }
    }

    /** The method, model and masking of a run, for the first line of output. */
    static String describe(PretrainConfig c) {
        return (c.isCae() ? "CAE " : "") + name(c) + " (" + c.effectiveMaskStrategy() + " masking, ratio " + c.maskRatio() + ")";
    }

    static String name(PretrainConfig c) {
        return c.modelName() != null ? c.modelName() : "MAE " + c.modelConfig();
    }

    /** Progress bar (or plain lines) and epoch summaries. */
    static final class Console implements TrainingListener {
        private final PrintWriter out;
        private final PretrainConfig config;
        private final boolean progress;
        private ProgressBar bar;
        private int stepsPerEpoch;

        Console(PrintWriter out, PretrainConfig config, boolean progress) {
            this.out = out;
            this.config = config;
            this.progress = progress;
        }

        @Override
        public synchronized void onEvent(TrainingEvent event) {
            switch (event) {
                case TrainingEvent.Started s -> {
                    stepsPerEpoch = s.stepsPerEpoch();
                    if (s.resumedFrom() != null) {
                        out.printf("resumed from %s at epoch %d step %d%n", s.resumedFrom(), s.epoch(), s.step());
                    }
                    out.printf(Locale.ROOT, "%,d trainable parameters%n", s.trainableParameters());
                    out.flush();
                }
                case TrainingEvent.Step s -> {
                    if (!progress) return;
                    if (bar == null) bar = newBar(s.epoch(), s.step());
                    bar.stepTo(s.step() + 1);
                    bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f lr %.2e %.0f img/s", s.loss(), s.lr(),
                            s.imagesPerSecond()));
                }
                case TrainingEvent.EpochEnd e -> {
                    closeBar();
                    out.printf(Locale.ROOT, "epoch %d/%d: loss %.4f, lr %.3e, %d images in %.1f s (%.0f img/s)%s%n",
                            e.epoch() + 1, config.epochs(), e.meanLoss(), e.lr(), e.images(), e.seconds(),
                            e.images() / Math.max(e.seconds(), 1e-9),
                            e.skippedImages() > 0 ? ", " + e.skippedImages() + " unreadable images skipped" : "");
                    out.flush();
                }
                case TrainingEvent.CheckpointSaved c -> {
                    closeBar();
                    out.println("  saved " + c.path());
                    out.flush();
                }
                case TrainingEvent.Finished f -> closeBar();
            }
        }

        private ProgressBar newBar(int epoch, int startStep) {
            ProgressBarBuilder b = new ProgressBarBuilder()
                    .setTaskName(String.format("epoch %d/%d", epoch + 1, config.epochs()))
                    .setInitialMax(stepsPerEpoch)
                    .setStyle(ProgressBarStyle.ASCII)
                    .setUpdateIntervalMillis(250)
                    .setMaxRenderedLength(120);
            if (startStep > 0) b.startsFrom(startStep, java.time.Duration.ZERO);
            return b.build();
        }

        private void closeBar() {
            if (bar != null) {
                bar.close();
                bar = null;
            }
        }

        synchronized void close() {
            closeBar();
        }
    }
}
