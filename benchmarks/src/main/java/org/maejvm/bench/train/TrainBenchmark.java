package org.maejvm.bench.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.List;
import org.maejvm.bench.BenchBackends;
import org.maejvm.model.MaeConfig;
import org.maejvm.model.MaeModel;
import org.maejvm.ops.Backend;
import org.maejvm.ops.ProfilingBackend;
import org.maejvm.optim.AdamW;
import org.maejvm.tensor.Tensor;

/**
 * End-to-end training throughput in this JVM: full MAE pretraining steps (forward at mask ratio 0.75, backward,
 * AdamW, zero grad) on random images, timed after a warm-up, then forward passes alone. The step is the one
 * {@link org.maejvm.train.Pretrainer} runs, without the data pipeline (the PyTorch counterpart has none either).
 * On a TornadoVM device the warm-up's first step also builds and compiles every kernel of the step; each step
 * reads its loss back to the host, so the timing covers the device's work.
 */
public final class TrainBenchmark {

    /**
     * @param model          which configuration
     * @param batch          images per step
     * @param threads        worker threads of a CPU backend (ignored on a TornadoVM device)
     * @param backend        backend name as {@link BenchBackends#open}: simd, reference, tornado, tornado:N...
     * @param warmupSeconds  at least this long, and at least {@link #MIN_WARMUP_STEPS} steps, before timing
     * @param measureSeconds timed window (at least {@link #MIN_TIMED_STEPS} steps)
     */
    public record Options(TrainCase model, int batch, int threads, String backend,
                          double warmupSeconds, double measureSeconds) {
        public Options {
            if (batch < 1) throw new IllegalArgumentException("--batch-size must be >= 1, got " + batch);
            if (threads < 1) throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
            if (!(warmupSeconds >= 0)) throw new IllegalArgumentException("warm-up must be >= 0 s, got " + warmupSeconds);
            if (!(measureSeconds > 0)) throw new IllegalArgumentException("measure time must be > 0 s, got " + measureSeconds);
        }
    }

    static final int MIN_WARMUP_STEPS = 3;
    static final int MIN_TIMED_STEPS = 3;
    static final float LR = 1.5e-4f;
    static final float WEIGHT_DECAY = 0.05f;

    private TrainBenchmark() {}

    /** Measures on a fresh backend and model. */
    public static TrainResult run(Options o) {
        try (Backend backend = BenchBackends.open(o.backend(), o.threads())) {
            Steps steps = new Steps(o, backend);
            double trainSeconds = secondsPerStep(steps::train, o);
            double fwdSeconds = secondsPerStep(steps::forward, o);
            if (!Float.isFinite(steps.lastLoss)) {
                throw new IllegalStateException("the benchmark's loss is " + steps.lastLoss + ": the backend computes wrongly");
            }
            return new TrainResult("mae-jvm", o.model().label(), o.batch(), o.threads(), backend.name(),
                    o.batch() / trainSeconds, o.batch() / fwdSeconds, peakRssMb(), steps.lastLoss);
        }
    }

    /**
     * Where a training step's time goes: the warm-up, then {@code steps} steps with every op timed (each GEMM shape
     * apart with {@code gemmShapes}).
     */
    public static OpProfile profile(Options o, int steps, boolean gemmShapes) {
        if (steps < 1) throw new IllegalArgumentException("profile steps must be >= 1, got " + steps);
        try (ProfilingBackend backend = new ProfilingBackend(BenchBackends.open(o.backend(), o.threads()), gemmShapes)) {
            Steps s = new Steps(o, backend);
            long start = System.nanoTime();
            int warm = 0;
            while (warm < MIN_WARMUP_STEPS || System.nanoTime() - start < o.warmupSeconds() * 1e9) {
                s.train();
                warm++;
            }
            backend.reset();
            start = System.nanoTime();
            for (int i = 0; i < steps; i++) s.train();
            return new OpProfile(steps, System.nanoTime() - start, backend.times());
        }
    }

    /** Per-op times of {@code steps} training steps that took {@code nanos} in all. */
    public record OpProfile(int steps, long nanos, List<ProfilingBackend.OpTime> ops) {}

    /** One model, optimizer and batch of random images, and the two kinds of step the benchmark times. */
    private static final class Steps {
        final MaeModel model;
        final AdamW optimizer;
        final Tensor images;
        final float[] noise;
        final SplittableRandom rng = new SplittableRandom(1);
        float lastLoss = Float.NaN;

        Steps(Options o, Backend backend) {
            MaeConfig config = o.model().config();
            model = new MaeModel(config, backend, 0);
            optimizer = AdamW.forMae(model.parameters(), WEIGHT_DECAY);
            images = randomImages(backend, config, o.batch(), rng);
            noise = new float[o.batch() * config.numPatches()];
        }

        void train() {
            fill(noise, rng);
            lastLoss = model.forward(images, noise, TrainCase.MASK_RATIO);
            model.backward();
            optimizer.step(LR);
            model.parameters().zeroGrad();
        }

        void forward() {
            fill(noise, rng);
            model.forward(images, noise, TrainCase.MASK_RATIO);
        }
    }

    /** Warm-up, then the mean time per step over a window of whole steps. */
    static double secondsPerStep(Runnable step, Options o) {
        long start = System.nanoTime();
        int steps = 0;
        while (steps < MIN_WARMUP_STEPS || System.nanoTime() - start < o.warmupSeconds() * 1e9) {
            step.run();
            steps++;
        }
        start = System.nanoTime();
        steps = 0;
        long elapsed;
        do {
            step.run();
            steps++;
            elapsed = System.nanoTime() - start;
        } while (steps < MIN_TIMED_STEPS || elapsed < o.measureSeconds() * 1e9);
        return elapsed * 1e-9 / steps;
    }

    /** Normal(0, 1) pixels, like normalised images. */
    static Tensor randomImages(Backend backend, MaeConfig c, int batch, SplittableRandom rng) {
        float[] pixels = new float[batch * c.inChans() * c.imgSize() * c.imgSize()];
        for (int i = 0; i < pixels.length; i++) pixels[i] = (float) gaussian(rng);
        Tensor t = backend.zeros(batch, c.inChans(), c.imgSize(), c.imgSize());
        backend.upload(pixels, t);
        return t;
    }

    private static double gaussian(SplittableRandom rng) {
        double u1 = 1 - rng.nextDouble(), u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    private static void fill(float[] noise, SplittableRandom rng) {
        for (int i = 0; i < noise.length; i++) noise[i] = rng.nextFloat();
    }

    /** Peak resident set size of this process (VmHWM), in MB; NaN where /proc is not available. */
    public static double peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    String kb = line.substring("VmHWM:".length()).replace("kB", "").trim();
                    return Long.parseLong(kb) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }

    // ------------------------------------------------------------------ child-process entry point

    /** The arguments {@link #main} takes for {@code o}: the comparison runner starts a fresh JVM with these. */
    static String[] toArgs(Options o) {
        return new String[] {o.model().label(), Integer.toString(o.batch()), Integer.toString(o.threads()),
                o.backend(), Double.toString(o.warmupSeconds()), Double.toString(o.measureSeconds())};
    }

    static Options fromArgs(String[] a) {
        if (a.length != 6) {
            throw new IllegalArgumentException("expected: model batch threads backend warmupSeconds measureSeconds");
        }
        return new Options(TrainCase.named(a[0]), Integer.parseInt(a[1]), Integer.parseInt(a[2]), a[3],
                Double.parseDouble(a[4]), Double.parseDouble(a[5]));
    }

    /**
     * Runs one measurement and prints its JSON line: how the comparison runner measures the JVM side in a fresh
     * process, so that the peak RSS counts only the benchmark, as the PyTorch process's does.
     */
    public static void main(String[] args) {
        System.out.println(run(fromArgs(args)).toJson());
    }
}
