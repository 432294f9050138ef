package org.maejvm.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import org.maejvm.data.Batch;
import org.maejvm.io.AtomicFiles;
import org.maejvm.io.Safetensors;
import org.maejvm.model.CaeModel;
import org.maejvm.model.MaeModel;
import org.maejvm.model.MaskPlan;
import org.maejvm.model.PretrainModel;
import org.maejvm.model.masking.MaskingStrategy;
import org.maejvm.nn.Parameter;
import org.maejvm.ops.Backend;
import org.maejvm.optim.AdamW;
import org.maejvm.tensor.Tensor;

/**
 * The pretraining loop of the official {@code engine_pretrain.train_one_epoch} + {@code main_pretrain.py}, per data
 * step: at the start of each accumulation cycle the lr follows {@link LrSchedule} at the fractional epoch; forward
 * gives the loss (a non-finite one stops the run); backward with dLoss = 1 / accum_iter; at the end of a cycle the
 * gradients are averaged across ranks ({@link GradientSync}), optionally clipped to a total L2 norm, AdamW steps and
 * the gradients are zeroed. Gradients are also zeroed at each epoch start, so a cycle cut by the end of an epoch is
 * dropped, as officially.
 *
 * <p>A run is a pure function of (config, data, seed): masking noise comes from (seed, global step), data order
 * from the source's (seed, epoch). Checkpoints are taken only where no gradient is pending (cycle or epoch ends), so
 * resuming from one continues bit for bit. A stop request (see {@link #stopWhen}) is honoured at the next such
 * point: a checkpoint is saved there, then {@link #run} returns.
 */
public final class Pretrainer {
    public static final String LAST = "checkpoint-last.safetensors";

    private final PretrainConfig config;
    private final EpochSource data;
    private final PretrainModel model;
    private final MaskingStrategy masking;
    private final AdamW optimizer;
    private final LrSchedule schedule;
    private final Path outputDir;

    private TrainingListener listener = TrainingListener.NONE;
    private GradientSync sync = GradientSync.NONE;
    private MaskingNoise noise = MaskingNoise.PER_STEP;
    private BooleanSupplier stopRequested = () -> false;
    private Checkpoint.Position position = new Checkpoint.Position(0, 0, 0);
    private Path resumedFrom;
    private Path lastCheckpoint;
    private Tensor images;

    /** A fresh model initialised from the config's seed (officially initialised), on {@code backend}. */
    public Pretrainer(PretrainConfig config, EpochSource data, Backend backend) {
        this.config = config.validate();
        this.data = Objects.requireNonNull(data, "data");
        if (data.stepsPerEpoch() < 1) {
            throw new IllegalArgumentException("the data gives " + data.stepsPerEpoch()
                    + " batches per epoch; at least 1 is needed (fewer images than batch_size " + config.batchSize() + "?)");
        }
        if (config.isCae()) {
            CaeModel cae = new CaeModel(config.modelConfig(), config.caeConfig(), backend, config.seed());
            cae.teacherUpdates(false); // moved in optimizerStep, once per optimizer step
            this.model = cae;
            this.optimizer = CaeModel.adamW(cae.parameters(), (float) config.weightDecay());
        } else {
            this.model = new MaeModel(config.modelConfig(), backend, config.seed());
            this.optimizer = AdamW.forMae(model.parameters(), (float) config.weightDecay());
        }
        this.masking = config.masking();
        this.schedule = LrSchedule.of(config);
        this.outputDir = config.outputDir() == null ? null : Path.of(config.outputDir());
    }

    public Pretrainer listener(TrainingListener l) { this.listener = Objects.requireNonNull(l); return this; }

    /**
     * Averages gradients across ranks through {@code s}. The config's {@code world_size} must equal the number of
     * ranks, so the lr rule and the logs use the effective batch (world_size * batch_size * accum_iter).
     */
    public Pretrainer gradientSync(GradientSync s) {
        Objects.requireNonNull(s, "gradientSync");
        if (s.worldSize() != config.worldSize()) {
            throw new IllegalArgumentException("the gradient sync has " + s.worldSize() + " ranks but the config says "
                    + "world_size=" + config.worldSize() + "; set world_size to the number of ranks (the lr rule uses "
                    + "the effective batch world_size * batch_size * accum_iter)");
        }
        this.sync = s;
        return this;
    }

    public Pretrainer maskingNoise(MaskingNoise n) { this.noise = Objects.requireNonNull(n); return this; }

    /** Polled at every point where a checkpoint can be taken; when true the run saves one and returns. */
    public Pretrainer stopWhen(BooleanSupplier s) { this.stopRequested = Objects.requireNonNull(s); return this; }

    /**
     * Continues from a checkpoint: weights, optimizer moments and step count, and the position. The model must
     * have the same shape; other settings come from this trainer's config (e.g. more epochs), which for an exact
     * continuation should equal the checkpoint's.
     */
    public Pretrainer resume(Path checkpoint) throws IOException {
        Checkpoint c = Checkpoint.read(checkpoint);
        if (!c.config().methodName().equals(config.methodName())) {
            throw new IllegalArgumentException(checkpoint + " was trained with method " + c.config().methodName()
                    + ", but the config asks for " + config.methodName());
        }
        if (!c.config().modelConfig().equals(config.modelConfig())) {
            throw new IllegalArgumentException(checkpoint + " holds a model " + c.config().modelConfig()
                    + ", but the config asks for " + config.modelConfig());
        }
        c.restore(model, optimizer);
        position = c.position();
        resumedFrom = checkpoint;
        lastCheckpoint = checkpoint;
        return this;
    }

    /** The MAE model being trained; for a CAE run use {@link #pretrainModel()}. */
    public MaeModel model() {
        if (model instanceof MaeModel mae) return mae;
        throw new IllegalStateException("this run trains " + config.methodName() + ", not an MAE model; use pretrainModel()");
    }

    /** The model being trained (MAE or CAE). */
    public PretrainModel pretrainModel() { return model; }

    public AdamW optimizer() { return optimizer; }

    public PretrainConfig config() { return config; }

    /** Where the next data step is. */
    public Checkpoint.Position position() { return position; }

    /** Trains from the current position to the last epoch or a stop request. */
    public TrainingEvent.Finished run() throws IOException {
        long t0 = System.nanoTime();
        boolean writer = sync.rank() == 0 && outputDir != null;
        if (writer) {
            Files.createDirectories(outputDir);
            // a run killed while saving leaves its temporary file; the checkpoints themselves are whole
            AtomicFiles.removeLeftovers(outputDir, "checkpoint-*.safetensors");
        }
        sync.broadcast(model.parameters());
        int stepsPerEpoch = data.stepsPerEpoch();
        listener.onEvent(new TrainingEvent.Started(config, position.epoch(), position.step(), position.globalStep(),
                stepsPerEpoch, model.parameters().trainableCount(), model.backend().name(), resumedFrom));
        double lr = schedule.at(position.epoch(), position.step(), stepsPerEpoch);
        float lastLoss = Float.NaN;
        try (TrainingLog log = writer ? TrainingLog.open(outputDir, position.globalStep()) : null) {
            while (position.epoch() < config.epochs()) {
                if (stopNow()) return stop(t0, lastLoss);
                int epoch = position.epoch();
                long epochStart = System.nanoTime();
                double lossSum = 0, lrSum = 0, windowLoss = 0;
                int steps = 0, window = 0;
                long seen = 0;
                int step = position.step();
                long global = position.globalStep();
                model.parameters().zeroGrad();
                try (EpochSource.EpochIterator it = data.epoch(epoch)) {
                    skip(it, step, epoch);
                    while (it.hasNext()) {
                        Batch batch = it.next();
                        long stepStart = System.nanoTime();
                        if (step % config.accumIter() == 0) lr = schedule.at(epoch, step, stepsPerEpoch);
                        float loss = forwardBackward(batch, global, epoch, step);
                        boolean cycleEnd = (step + 1) % config.accumIter() == 0;
                        if (cycleEnd) optimizerStep((float) lr, epoch, step, loss);
                        step++;
                        global++;
                        steps++;
                        seen += batch.size();
                        lossSum += loss;
                        lrSum += lr;
                        lastLoss = loss;
                        windowLoss += loss;
                        window++;
                        double ips = batch.size() / Math.max((System.nanoTime() - stepStart) * 1e-9, 1e-9);
                        TrainingEvent.Step ev = new TrainingEvent.Step(epoch, step - 1, global, loss, lr, ips, cycleEnd);
                        listener.onEvent(ev);
                        if (log != null && (global % config.logFreq() == 0)) {
                            log.step(new TrainingEvent.Step(epoch, step - 1, global, (float) (windowLoss / window),
                                    lr, ips, cycleEnd));
                            windowLoss = 0;
                            window = 0;
                        }
                        if (cycleEnd) {
                            position = new Checkpoint.Position(epoch, step, global);
                            if (config.saveEverySteps() > 0 && global % config.saveEverySteps() == 0) {
                                save(checkpointName(position));
                            }
                            // At the epoch's end the stop waits until the epoch is closed (log, plot, checkpoint).
                            if (stopNow() && it.hasNext()) return stop(t0, lastLoss);
                        }
                    }
                }
                position = new Checkpoint.Position(epoch + 1, 0, global);
                double seconds = (System.nanoTime() - epochStart) * 1e-9;
                // As the official train_loss / train_lr: averages over the epoch's steps.
                TrainingEvent.EpochEnd end = new TrainingEvent.EpochEnd(epoch, steps == 0 ? Double.NaN : lossSum / steps,
                        steps == 0 ? lr : lrSum / steps, steps, seen, data.skippedImages(epoch), seconds);
                listener.onEvent(end);
                if (log != null) {
                    log.epoch(end, global, model.parameters().trainableCount());
                    TrainingPlot.write(log.file(), outputDir.resolve(TrainingPlot.FILE_NAME));
                }
                boolean lastEpoch = epoch + 1 == config.epochs();
                if (lastEpoch || (config.saveFreq() > 0 && (epoch + 1) % config.saveFreq() == 0)) {
                    save(checkpointName(position));
                }
            }
        }
        return finish(false, t0, lastLoss);
    }

    /** A stop request of any rank stops all ranks at the same point. */
    private boolean stopNow() {
        return sync.anyRank(stopRequested.getAsBoolean());
    }

    /** forward + backward of one micro-batch; returns its loss. */
    private float forwardBackward(Batch batch, long global, int epoch, int step) {
        int[] shape = batch.shape();
        if (images == null || !java.util.Arrays.equals(images.shape(), shape)) {
            if (images != null) model.backend().free(images);
            images = model.backend().zeros(shape);
        }
        model.backend().upload(batch.images(), images);
        int patches = model.config().numPatches();
        // Every strategy masks image i from row i of the noise, so per-image noise gives the same masks wherever an
        // image lands (another rank, another step of an accumulation cycle).
        int grid = model.config().gridSize();
        float[] rows = noise.noise(config.seed(), global, batch, patches);
        MaskPlan plan = masking.planFromNoise(rows, batch.size(), grid, grid, config.maskRatio());
        if (model instanceof CaeModel cae) {
            // CAE's drop-path masks follow the same per-image contract, from a stream of their own.
            long[] seeds = new long[batch.size()];
            for (int i = 0; i < seeds.length; i++) {
                seeds[i] = Streams.derive(MaskingStrategy.rowHash(rows, i, patches), Streams.DROP_PATH);
            }
            cae.dropPathSeeds(seeds);
        }
        float loss = model.forward(images, plan);
        if (!Float.isFinite(loss)) throw new TrainingDivergedException(epoch, step, loss);
        model.backward(1f / config.accumIter());
        return loss;
    }

    /**
     * End of an accumulation cycle: average across ranks, check the gradients are finite (a NaN or infinity stops
     * the run before any weight changes), clip, step, zero.
     */
    private void optimizerStep(float lr, int epoch, int step, float loss) {
        sync.allReduceMean(model.parameters());
        double norm = gradNorm();
        if (!Double.isFinite(norm)) {
            throw TrainingDivergedException.gradient(epoch, step, loss, norm, firstNonFiniteGradient());
        }
        if (config.clipGrad() != null) clipToNorm(norm, config.clipGrad());
        // CAE's teacher moves once per optimizer step, towards the encoder every forward of the cycle used (with
        // accum_iter 1 exactly the official update inside the forward).
        if (model instanceof CaeModel cae) cae.updateTeacher();
        optimizer.step(lr);
        model.parameters().zeroGrad();
    }

    /** Total L2 norm of the trainable gradients. */
    private double gradNorm() {
        Backend b = model.backend();
        double sq = 0;
        for (Parameter p : model.parameters().trainable()) sq += b.sumSquares(p.grad());
        return Math.sqrt(sq);
    }

    private String firstNonFiniteGradient() {
        Backend b = model.backend();
        for (Parameter p : model.parameters().trainable()) {
            if (!Float.isFinite(b.sumSquares(p.grad()))) return p.name();
        }
        return "(none alone; their sum overflows)";
    }

    private void clipToNorm(double norm, double maxNorm) {
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1) {
            Backend b = model.backend();
            for (Parameter p : model.parameters().trainable()) b.scale(p.grad(), (float) coef);
        }
    }

    /**
     * torch.nn.utils.clip_grad_norm_: the total L2 norm over all gradients; if it exceeds {@code maxNorm}, every
     * gradient is scaled by maxNorm / (norm + 1e-6). Returns the norm before clipping.
     */
    public double clipGradNorm(double maxNorm) {
        double norm = gradNorm();
        clipToNorm(norm, maxNorm);
        return norm;
    }

    /** Reads past the batches a resumed epoch has already trained on (the order is a function of seed and epoch). */
    private static void skip(EpochSource.EpochIterator it, int steps, int epoch) {
        for (int i = 0; i < steps; i++) {
            if (!it.hasNext()) {
                throw new IllegalStateException("cannot resume at step " + steps + " of epoch " + epoch
                        + ": the data gives only " + i + " batches in that epoch");
            }
            it.next();
        }
    }

    private TrainingEvent.Finished stop(long t0, float lastLoss) throws IOException {
        Path expected = outputDir == null ? null : outputDir.resolve(checkpointName(position));
        if (outputDir != null && !Objects.equals(lastCheckpoint, expected)) save(checkpointName(position));
        return finish(true, t0, lastLoss);
    }

    private TrainingEvent.Finished finish(boolean stopped, long t0, float lastLoss) {
        TrainingEvent.Finished f = new TrainingEvent.Finished(stopped, position.epoch(), position.step(),
                position.globalStep(), lastLoss, (System.nanoTime() - t0) * 1e-9, lastCheckpoint);
        listener.onEvent(f);
        return f;
    }

    /** {@code checkpoint-<epoch>} after a finished epoch (the official name), else by global step. */
    private static String checkpointName(Checkpoint.Position p) {
        return p.step() == 0 && p.epoch() > 0
                ? "checkpoint-" + (p.epoch() - 1) + ".safetensors"
                : "checkpoint-step-" + p.globalStep() + ".safetensors";
    }

    /** Writes a numbered checkpoint and checkpoint-last (both atomically), then prunes to keep_last. */
    private void save(String name) throws IOException {
        sync.barrier();
        if (sync.rank() != 0 || outputDir == null) return;
        Path file = outputDir.resolve(name);
        try {
            Checkpoint.save(file, config, position, model, optimizer);
            AtomicFiles.write(outputDir.resolve(LAST), out -> Files.copy(file, out));
        } catch (IOException e) {
            // Disk full, quota, permissions: stop here, saying what is still good. The atomic writes left every
            // existing checkpoint as it was.
            throw new IOException("cannot save checkpoint " + file + " at epoch " + position.epoch() + " step "
                    + position.step() + " (" + e.getMessage() + "); training stopped; the last good checkpoint is "
                    + (lastCheckpoint == null ? "none (nothing was saved yet)" : lastCheckpoint), e);
        }
        lastCheckpoint = file;
        listener.onEvent(new TrainingEvent.CheckpointSaved(file, position.epoch(), position.step(), position.globalStep()));
        prune();
    }

    /** Deletes numbered checkpoints beyond the newest keep_last (ordered by their global step). */
    private void prune() throws IOException {
        record Numbered(Path file, long globalStep) {}
        List<Numbered> found = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(outputDir, "checkpoint-*.safetensors")) {
            for (Path p : ds) {
                if (p.getFileName().toString().equals(LAST)) continue;
                try {
                    String g = Safetensors.readMetadata(p).get("global_step");
                    if (g != null) found.add(new Numbered(p, Long.parseLong(g)));
                } catch (IOException | NumberFormatException e) {
                    // not one of ours (or unreadable): leave it alone
                }
            }
        }
        found.sort(Comparator.comparingLong(Numbered::globalStep).reversed());
        for (int i = config.keepLast(); i < found.size(); i++) {
            if (!found.get(i).file().equals(lastCheckpoint)) Files.deleteIfExists(found.get(i).file());
        }
    }

    /** For callers that cannot throw checked exceptions. */
    public TrainingEvent.Finished runUnchecked() {
        try {
            return run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
