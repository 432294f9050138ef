package org.maejvm.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import org.maejvm.data.Batch;
import org.maejvm.data.BatchIterator;
import org.maejvm.data.DataLoader;
import org.maejvm.data.Dataset;
import org.maejvm.data.EvalTransform;
import org.maejvm.data.FinetuneTransform;
import org.maejvm.data.Mixup;
import org.maejvm.data.Normalization;
import org.maejvm.data.RandAugment;
import org.maejvm.data.RandomErasing;
import org.maejvm.data.RandomResizedCrop;
import org.maejvm.data.Seeds;
import org.maejvm.data.TrainTransform;
import org.maejvm.data.Transform;
import org.maejvm.eval.ClassificationMetrics;
import org.maejvm.eval.EvalResult;
import org.maejvm.eval.Evaluator;
import org.maejvm.model.ClassifierConfig;
import org.maejvm.model.VitClassifier;
import org.maejvm.nn.Layer;
import org.maejvm.nn.Parameter;
import org.maejvm.ops.Backend;
import org.maejvm.optim.AdamW;
import org.maejvm.optim.Lars;
import org.maejvm.optim.LayerDecay;
import org.maejvm.optim.Sgd;
import org.maejvm.tensor.DType;
import org.maejvm.tensor.Tensor;

/**
 * The fine-tuning loop of the official {@code main_finetune.py}, the linear-probing loop of
 * {@code main_linprobe.py} and CAE's attentive probing ({@code run_attentive.py}) ({@link DownstreamConfig.Mode}),
 * on a {@link VitClassifier} the caller has built and loaded (e.g. with {@code EncoderWeights}; attentive probing
 * needs the {@code ATTENTIVE} head). Per step: the lr follows warmup + cosine at the fractional epoch;
 * targets are label-smoothed one-hot rows or Mixup/CutMix mixtures; soft-target cross-entropy; backward; optional
 * gradient clipping; AdamW with layer-wise lr decay (fine-tuning), LARS on the head (linear probing) or SGD with
 * momentum on the probe (attentive probing); probes train on features of the frozen encoder cached once by default.
 * After each epoch the model is evaluated on the validation data (top-1/top-5, loss);
 * {@code checkpoint-best.safetensors} keeps the best top-1, {@code checkpoint-last.safetensors} the position to
 * resume from, {@code log.txt} one JSON object per epoch with the official keys ({@code train_loss}, {@code train_lr}, {@code test_acc1}, {@code test_acc5},
 * {@code test_loss}), and {@code eval.json} / {@code confusion.csv} the best epoch's evaluation.
 *
 * <p>A run is a pure function of (config, model, data): data order and augmentation come from (seed, epoch, index),
 * drop path and mixing from (seed, global step), so a run resumed from a checkpoint continues exactly. A stop request
 * (see {@link #stopWhen}) is honoured between steps: a checkpoint is saved there, then {@link #run} returns.
 */
public final class DownstreamTrainer {
    public static final String LAST = "checkpoint-last.safetensors";
    public static final String BEST = "checkpoint-best.safetensors";
    /** CAE's attentive probing: torch SGD with momentum 0.9. */
    static final float CAE_SGD_MOMENTUM = 0.9f;
    private static final long DROP_PATH_STREAM = 0x44524f50L, MIXUP_STREAM = 0x4d495855L, FEATURE_SHUFFLE = 0x46454154L;

    /** What a run reports; every method has an empty default. */
    public interface Listener {
        /** A phase starts: "features" (caching the frozen encoder's output), "epoch k/n" or "eval"; total items. */
        default void phase(String name, long total) {}

        /** Items done in the current phase. */
        default void progress(long done) {}

        default void step(int epoch, int step, float loss, double lr) {}

        default void epochEnd(EpochResult result) {}

        default void saved(Path file) {}
    }

    /** One finished epoch: the official train_loss / train_lr (means over the steps) and the evaluation. */
    public record EpochResult(int epoch, double trainLoss, double trainLr, EvalResult eval, boolean best,
                              double seconds) {}

    /** The run's outcome: the last and the best evaluation (null when no epoch finished). */
    public record Result(EvalResult last, EvalResult best, int bestEpoch, boolean stopped, Path bestCheckpoint) {}

    private final DownstreamConfig config;
    private final VitClassifier model;
    private final Backend backend;
    private final Dataset train;
    private final Dataset val;
    private final DataLoader trainLoader;
    private final DataLoader valLoader;
    private final Optimizer optimizer;
    private final LrSchedule schedule;
    private final Mixup mixup;
    private final Path outputDir;
    private final List<String> classNames;

    private Listener listener = new Listener() {};
    private BooleanSupplier stopRequested = () -> false;
    private Checkpoint.Position position = new Checkpoint.Position(0, 0, 0);
    private double bestAcc1 = -1;
    private int bestEpoch = -1;
    private EvalResult best;
    private float[] trainFeatures, valFeatures;
    private int[] trainLabels, valLabels;
    private Tensor batchTensor, targets, dLogits;

    /**
     * @param cropPct the eval transform's crop ratio (1.0 for images already at the model's size)
     */
    public DownstreamTrainer(DownstreamConfig config, VitClassifier model, Dataset train, Dataset val, double cropPct) {
        this.config = config.validate();
        this.model = Objects.requireNonNull(model, "model");
        this.backend = model.backend();
        this.train = train;
        this.val = val;
        int classes = model.config().numClasses();
        if (train.numClasses() != classes) {
            throw new IllegalArgumentException("the training data has " + train.numClasses() + " classes, the model's head "
                    + classes);
        }
        this.classNames = train.classNames();
        if (!val.classNames().equals(classNames)) {
            throw new IllegalArgumentException("training and validation data name different classes: " + classNames
                    + " vs " + val.classNames());
        }
        int size = model.config().imgSize();
        Normalization norm = train.normalization();
        EvalTransform eval = new EvalTransform(size, cropPct, norm);
        Transform trainTransform;
        RandomResizedCrop crop = new RandomResizedCrop(config.cropScale(), 1.0,
                RandomResizedCrop.TORCHVISION_DEFAULT.minRatio(), RandomResizedCrop.TORCHVISION_DEFAULT.maxRatio());
        if (config.mode().probes()) {
            model.freezeEncoder(true);
            // Cached features: one pass without augmentation. Else main_linprobe's / run_attentive's RandomResizedCrop + flip.
            trainTransform = config.cacheFeatures() ? eval
                    : new TrainTransform(size, crop, 0.5, norm);
        } else {
            trainTransform = new FinetuneTransform(size, crop,
                    config.aa() == null || config.aa().isBlank() || config.aa().equalsIgnoreCase("none") ? null
                            : RandAugment.parse(config.aa(), norm),
                    config.reprob() > 0 ? new RandomErasing(config.reprob()) : null, norm);
        }
        boolean cached = cached();
        this.trainLoader = new DataLoader(train, trainTransform, config.batchSize(), config.seed(), !cached, !cached);
        this.valLoader = new DataLoader(val, eval, Math.max(config.batchSize(), 64), 0L, false, false);
        if (!cached && trainLoader.batchesPerEpoch() < 1) {
            throw new IllegalArgumentException("the training data has " + train.size() + " images, fewer than one batch of "
                    + config.batchSize() + "; lower the batch size");
        }
        if (config.mode() == DownstreamConfig.Mode.ATTNPROBE && model.config().head() != ClassifierConfig.Head.ATTENTIVE) {
            throw new IllegalArgumentException("attentive probing needs a classifier with the ATTENTIVE head, got " + model.config().head());
        }
        this.optimizer = switch (config.mode()) {
            case LINPROBE -> Optimizer.lars(Lars.official(backend, model.headParameters(), (float) config.weightDecay()));
            case ATTNPROBE -> Optimizer.sgd(new Sgd(backend, model.headParameters(), CAE_SGD_MOMENTUM, (float) config.weightDecay()));
            case FINETUNE -> Optimizer.adamw(LayerDecay.adamw(backend, model.trainableParameters(), model.config().depth(),
                    (float) config.weightDecay(), config.layerDecay()));
        };
        this.schedule = new LrSchedule(config.effectiveLr(), config.minLr(), config.warmupEpochs(), config.epochs());
        this.mixup = config.mixes() ? new Mixup(new Mixup.Config(config.mixup(), config.cutmix(), config.mixupProb(),
                config.mixupSwitchProb(), config.smoothing(), classes), config.seed()) : null;
        this.outputDir = config.outputDir() == null ? null : Path.of(config.outputDir());
    }

    /** A new classifier and what loading the encoder did (null when there was no checkpoint). */
    public record Built(VitClassifier model, org.maejvm.nn.LoadReport report) {}

    /**
     * The classifier of {@code config}'s mode for {@code encoder} and {@code classes} classes, initialised from
     * {@code seed} (official MAE init, official head init) and, when {@code checkpoint} is given, loaded with its
     * encoder (non-strict: the report lists what was missing or unexpected).
     */
    public static Built newClassifier(DownstreamConfig config, org.maejvm.model.MaeConfig encoder, int classes,
                                      Path checkpoint, Backend backend) throws IOException {
        ClassifierConfig cc = switch (config.mode()) {
            case FINETUNE -> ClassifierConfig.finetune(encoder, classes, config.dropPath()).withGlobalPool(config.globalPool());
            case LINPROBE -> ClassifierConfig.linprobe(encoder, classes).withGlobalPool(config.globalPool());
            case ATTNPROBE -> ClassifierConfig.attentive(encoder, classes);
        };
        VitClassifier model = new VitClassifier(cc, backend, config.seed());
        org.maejvm.nn.LoadReport report = checkpoint == null ? null
                : org.maejvm.model.EncoderWeights.load(model, checkpoint);
        return new Built(model, report);
    }

    public DownstreamTrainer listener(Listener l) { this.listener = Objects.requireNonNull(l); return this; }

    /** Polled between steps; when true the run saves a checkpoint and returns. */
    public DownstreamTrainer stopWhen(BooleanSupplier s) { this.stopRequested = Objects.requireNonNull(s); return this; }

    public VitClassifier model() { return model; }

    public Checkpoint.Position position() { return position; }

    /** Continues from a {@link #LAST} checkpoint of the same model: weights, optimizer state, position, best so far. */
    public DownstreamTrainer resume(Path checkpoint) throws IOException {
        DownstreamCheckpoint c = DownstreamCheckpoint.read(checkpoint);
        if (!c.classifier().equals(model.config())) {
            throw new IllegalArgumentException(checkpoint + " holds a model " + c.classifier() + ", this run builds "
                    + model.config());
        }
        c.restoreModel(model);
        optimizer.restore(c, backend);
        position = c.position();
        bestAcc1 = c.bestAcc1();
        bestEpoch = c.bestEpoch();
        return this;
    }

    /** Trains from the current position to the last epoch or a stop request. */
    public Result run() throws IOException {
        if (outputDir != null) Files.createDirectories(outputDir);
        boolean cached = cached();
        if (cached) cacheFeatures();
        int steps = cached ? trainLabels.length / config.batchSize()
                : trainLoader.batchesPerEpoch();
        if (steps < 1) {
            throw new IllegalArgumentException("the training data gives no full batch of " + config.batchSize());
        }
        EvalResult last = null;
        try (TrainingLog log = outputDir == null ? null : TrainingLog.open(outputDir, position.globalStep())) {
            while (position.epoch() < config.epochs()) {
                int epoch = position.epoch();
                long t0 = System.nanoTime();
                listener.phase(String.format("epoch %d/%d", epoch + 1, config.epochs()), steps);
                model.train(true);
                double lossSum = 0, lrSum = 0;
                int done = 0;
                int step = position.step();
                long global = position.globalStep();
                if (cached) {
                    int[] order = featureOrder(epoch);
                    for (; step < steps; step++) {
                        if (stopRequested.getAsBoolean()) return stop(last);
                        double lr = schedule.at(epoch, step, steps);
                        float loss = headStep(order, step, (float) lr);
                        lossSum += loss; lrSum += lr; done++; global++;
                        position = new Checkpoint.Position(epoch, step + 1, global);
                        listener.step(epoch, step, loss, lr);
                        listener.progress(step + 1);
                    }
                } else {
                    try (BatchIterator it = trainLoader.iterator(epoch)) {
                        for (int i = 0; i < step && it.hasNext(); i++) it.next(); // resumed mid-epoch
                        while (it.hasNext()) {
                            if (stopRequested.getAsBoolean()) return stop(last);
                            Batch batch = it.next();
                            double lr = schedule.at(epoch, step, steps);
                            float loss = trainStep(batch, global, (float) lr);
                            if (!Float.isFinite(loss)) throw new TrainingDivergedException(epoch, step, loss);
                            lossSum += loss; lrSum += lr; done++; global++; step++;
                            position = new Checkpoint.Position(epoch, step, global);
                            listener.step(epoch, step - 1, loss, lr);
                            listener.progress(step);
                        }
                    }
                }
                position = new Checkpoint.Position(epoch + 1, 0, global);
                last = evaluate();
                boolean isBest = last.top1() > bestAcc1;
                if (isBest) {
                    bestAcc1 = last.top1();
                    bestEpoch = epoch;
                    best = last;
                }
                EpochResult r = new EpochResult(epoch, done == 0 ? Double.NaN : lossSum / done,
                        done == 0 ? Double.NaN : lrSum / done, last, isBest, (System.nanoTime() - t0) * 1e-9);
                if (log != null) log.downstreamEpoch(r, global, model.parameters().trainableCount());
                if (outputDir != null) {
                    if (isBest) {
                        save(BEST);
                        last.writeJson(outputDir.resolve("eval.json"));
                        last.writeConfusionCsv(outputDir.resolve("confusion.csv"));
                    }
                    save(LAST);
                }
                listener.epochEnd(r);
            }
        }
        return new Result(last, best, bestEpoch, false, outputDir == null || bestEpoch < 0 ? null : outputDir.resolve(BEST));
    }

    /** Top-1 / top-5 / loss on the validation data, in eval mode. */
    public EvalResult evaluate() {
        model.train(false);
        listener.phase("eval", val.size());
        EvalResult r;
        if (valFeatures != null) {
            ClassificationMetrics m = new ClassificationMetrics(classNames);
            int d = featureSize(), n = valLabels.length, bs = Math.max(config.batchSize(), 64);
            for (int start = 0; start < n; start += bs) {
                int b = Math.min(bs, n - start);
                float[] rows = new float[b * d];
                System.arraycopy(valFeatures, start * d, rows, 0, b * d);
                batchTensor = Layer.reuse(backend, batchTensor, DType.F32, featureBatchShape(b));
                backend.upload(rows, batchTensor);
                int[] labels = new int[b];
                System.arraycopy(valLabels, start, labels, 0, b);
                m.add(backend.toHost(model.forwardHead(batchTensor)), labels, b);
                listener.progress(start + b);
            }
            r = m.result();
        } else {
            r = Evaluator.evaluate(valLoader, classNames, batch -> backend.toHost(model.forward(batch)),
                    listener::progress);
        }
        model.train(true);
        return r;
    }

    // ------------------------------------------------------------------ steps

    /** forward + soft-target cross-entropy + backward + optimizer step of one batch; returns the loss. */
    private float trainStep(Batch batch, long global, float lr) {
        int classes = model.config().numClasses();
        model.reseed(Seeds.derive(config.seed(), DROP_PATH_STREAM, global));
        float[] target;
        if (mixup != null) {
            mixup.reseed(Seeds.derive(config.seed(), MIXUP_STREAM, global));
            Mixup.Mixed mixed = mixup.apply(batch);
            batch = mixed.batch();
            target = mixed.targets();
        } else {
            target = Mixup.smoothedOneHot(batch.labels(), classes, config.smoothing());
        }
        Tensor logits = model.forward(batch);
        float loss = lossAndGrad(logits, target, batch.size(), classes);
        model.backward(dLogits);
        optimizerStep(lr);
        return loss;
    }

    /** A probing step on cached features. */
    private float headStep(int[] order, int step, float lr) {
        int d = featureSize(), bs = config.batchSize(), classes = model.config().numClasses();
        float[] rows = new float[bs * d];
        int[] labels = new int[bs];
        for (int i = 0; i < bs; i++) {
            int idx = order[step * bs + i];
            System.arraycopy(trainFeatures, idx * d, rows, i * d, d);
            labels[i] = trainLabels[idx];
        }
        batchTensor = Layer.reuse(backend, batchTensor, DType.F32, featureBatchShape(bs));
        backend.upload(rows, batchTensor);
        Tensor logits = model.forwardHead(batchTensor);
        float loss = lossAndGrad(logits, Mixup.smoothedOneHot(labels, classes, config.smoothing()), bs, classes);
        if (!Float.isFinite(loss)) throw new TrainingDivergedException(position.epoch(), step, loss);
        model.backward(dLogits);
        optimizerStep(lr);
        return loss;
    }

    private float lossAndGrad(Tensor logits, float[] target, int b, int classes) {
        targets = Layer.reuse(backend, targets, DType.F32, b, classes);
        dLogits = Layer.reuse(backend, dLogits, DType.F32, b, classes);
        backend.upload(target, targets);
        return backend.softmaxCrossEntropy(logits, targets, dLogits);
    }

    private void optimizerStep(float lr) {
        if (config.clipGrad() != null) clipGradNorm(config.clipGrad());
        optimizer.step(lr);
        for (Parameter p : model.trainableParameters()) backend.fill(p.grad(), 0f);
    }

    private void clipGradNorm(double maxNorm) {
        double sq = 0;
        for (Parameter p : model.trainableParameters()) sq += backend.sumSquares(p.grad());
        double coef = maxNorm / (Math.sqrt(sq) + 1e-6);
        if (coef < 1) for (Parameter p : model.trainableParameters()) backend.scale(p.grad(), (float) coef);
    }

    /** The frozen encoder's pooled features of the training and validation data, computed once. */
    private void cacheFeatures() {
        model.train(false);
        Object[] t = features(trainLoader, train.size(), "features (train)");
        trainFeatures = (float[]) t[0];
        trainLabels = (int[]) t[1];
        Object[] v = features(valLoader, val.size(), "features (val)");
        valFeatures = (float[]) v[0];
        valLabels = (int[]) v[1];
        model.train(true);
    }

    private Object[] features(DataLoader loader, int total, String phase) {
        listener.phase(phase, total);
        long perImage = featureSize();
        if (perImage * total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("caching " + total + " images x " + perImage + " feature values does not fit "
                    + "one array; use fewer images or run the encoder every step (cache_features false)");
        }
        int d = (int) perImage;
        List<float[]> parts = new ArrayList<>();
        List<int[]> labels = new ArrayList<>();
        int n = 0;
        try (BatchIterator it = loader.iterator(0)) {
            while (it.hasNext()) {
                Batch b = it.next();
                Tensor images = backend.fromHost(b.images(), b.shape());
                parts.add(backend.toHost(model.forwardFeatures(images)));
                backend.free(images);
                labels.add(b.labels());
                n += b.size();
                listener.progress(n);
            }
        }
        float[] f = new float[n * d];
        int[] l = new int[n];
        int off = 0;
        for (int i = 0; i < parts.size(); i++) {
            System.arraycopy(parts.get(i), 0, f, off * d, parts.get(i).length);
            System.arraycopy(labels.get(i), 0, l, off, labels.get(i).length);
            off += labels.get(i).length;
        }
        return new Object[] {f, l};
    }

    /** Whether the head trains on features cached once (probing with cache_features). */
    private boolean cached() {
        return config.mode().probes() && config.cacheFeatures();
    }

    /** Feature values per image: D, or (1 + L) * D for the attentive probe. */
    private int featureSize() {
        int n = 1;
        for (int s : model.featureShape()) n *= s;
        return n;
    }

    private int[] featureBatchShape(int b) {
        int[] f = model.featureShape(), shape = new int[f.length + 1];
        shape[0] = b;
        System.arraycopy(f, 0, shape, 1, f.length);
        return shape;
    }

    /** The epoch's permutation of the cached rows (a function of seed and epoch). */
    private int[] featureOrder(int epoch) {
        int n = trainLabels.length;
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        SplittableRandom rng = new SplittableRandom(Seeds.derive(config.seed(), FEATURE_SHUFFLE, epoch));
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int tmp = order[i]; order[i] = order[j]; order[j] = tmp;
        }
        return order;
    }

    // ------------------------------------------------------------------ checkpoints

    private Result stop(EvalResult last) throws IOException {
        if (outputDir != null) save(LAST);
        return new Result(last, best, bestEpoch, true, outputDir == null || bestEpoch < 0 ? null : outputDir.resolve(BEST));
    }

    private void save(String name) throws IOException {
        Path file = outputDir.resolve(name);
        DownstreamCheckpoint.save(file, config, model, optimizer.state(), optimizer.stepCount(), position, bestAcc1,
                bestEpoch, classNames);
        listener.saved(file);
    }

    /** For callers that cannot throw checked exceptions. */
    public Result runUnchecked() {
        try {
            return run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** AdamW (fine-tuning), LARS (linear probing) or SGD (attentive probing) behind one face: step, state to save, restore. */
    interface Optimizer {
        void step(float lr);

        int stepCount();

        /** Optimizer tensors by checkpoint name. */
        Map<String, Tensor> state();

        void restore(DownstreamCheckpoint c, Backend backend) throws IOException;

        static Optimizer adamw(AdamW a) {
            return new Optimizer() {
                public void step(float lr) { a.step(lr); }
                public int stepCount() { return a.stepCount(); }
                public Map<String, Tensor> state() {
                    Map<String, Tensor> m = new LinkedHashMap<>();
                    for (AdamW.Slot s : a.slots()) m.put(Checkpoint.EXP_AVG + s.param().name(), s.expAvg());
                    for (AdamW.Slot s : a.slots()) m.put(Checkpoint.EXP_AVG_SQ + s.param().name(), s.expAvgSq());
                    return m;
                }
                public void restore(DownstreamCheckpoint c, Backend backend) throws IOException {
                    c.restoreOptimizer(state(), backend);
                    a.setStepCount(c.optimizerStep());
                }
            };
        }

        static Optimizer sgd(Sgd o) {
            return new Optimizer() {
                public void step(float lr) { o.step(lr); }
                public int stepCount() { return o.stepCount(); }
                public Map<String, Tensor> state() {
                    Map<String, Tensor> m = new LinkedHashMap<>();
                    for (Sgd.Slot s : o.slots()) m.put("optimizer.momentum_buffer." + s.param().name(), s.momentumBuffer());
                    return m;
                }
                public void restore(DownstreamCheckpoint c, Backend backend) throws IOException {
                    c.restoreOptimizer(state(), backend);
                    o.setStepCount(c.optimizerStep());
                }
            };
        }

        static Optimizer lars(Lars l) {
            return new Optimizer() {
                public void step(float lr) { l.step(lr); }
                public int stepCount() { return l.stepCount(); }
                public Map<String, Tensor> state() {
                    Map<String, Tensor> m = new LinkedHashMap<>();
                    for (Lars.Slot s : l.slots()) m.put("optimizer.momentum_buffer." + s.param().name(), s.momentumBuffer());
                    return m;
                }
                public void restore(DownstreamCheckpoint c, Backend backend) throws IOException {
                    c.restoreOptimizer(state(), backend);
                    l.setStepCount(c.optimizerStep());
                }
            };
        }
    }
}
