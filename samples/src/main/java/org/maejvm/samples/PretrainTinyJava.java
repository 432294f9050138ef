package org.maejvm.samples;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.maejvm.api.Pretraining;
import org.maejvm.model.MaeConfig;
import org.maejvm.ops.Backend;
import org.maejvm.ops.Backends;
import org.maejvm.train.EpochSource;
import org.maejvm.train.PretrainConfig;
import org.maejvm.train.TrainingEvent;

/**
 * Pretrains a tiny MAE on generated blobs from Java: blocking calls and a listener, no coroutines. Trains in the
 * background, stops it after 60 steps (a checkpoint is saved), then resumes from that checkpoint to the end.
 */
public final class PretrainTinyJava {
    public static void main(String[] args) throws Exception {
        int n = 256, side = 16;
        float[] images = blobs(n, side, new SplittableRandom(2));
        Path out = Files.createTempDirectory("mae-java-sample");
        PretrainConfig config = PretrainConfig.builder()
                .model(new MaeConfig(side, 4, 1, 64, 2, 4, 32, 1, 4, 4.0, false)).modelName("blobs-16px")
                .epochs(12).batchSize(32).lr(2e-3).warmupEpochs(1).outputDir(out).build();
        EpochSource data = EpochSource.inMemory(images, n, 1, side, side, config.batchSize(), config.seed());
        try (Backend backend = Backends.create("simd", 0)) {
            int[] steps = {0};
            Pretraining.Run run = Pretraining.start(config, data, backend, null, event -> {
                if (event instanceof TrainingEvent.Step) steps[0]++;
                if (event instanceof TrainingEvent.EpochEnd e) System.out.printf("epoch %d: loss %.4f%n", e.epoch(), e.meanLoss());
            });
            while (steps[0] < 60 && !run.isDone()) Thread.sleep(10);
            TrainingEvent.Finished stopped = run.stopAndAwait();
            System.out.println("stopped at step " + stopped.globalStep() + ", saved " + stopped.lastCheckpoint());

            TrainingEvent.Finished done = Pretraining.run(config, data, backend, stopped.lastCheckpoint(), event -> {
                if (event instanceof TrainingEvent.EpochEnd e) System.out.printf("epoch %d: loss %.4f%n", e.epoch(), e.meanLoss());
            });
            System.out.println("finished at step " + done.globalStep() + "; outputs in " + out);
        }
    }

    /** Gaussian blobs at random places and widths on a dark background. */
    static float[] blobs(int n, int side, SplittableRandom rng) {
        float[] x = new float[n * side * side];
        for (int i = 0; i < n; i++) {
            double cx = rng.nextDouble() * side, cy = rng.nextDouble() * side, s = 1.5 + rng.nextDouble() * 3;
            for (int y = 0; y < side; y++) {
                for (int xx = 0; xx < side; xx++) {
                    double d2 = (xx - cx) * (xx - cx) + (y - cy) * (y - cy);
                    x[i * side * side + y * side + xx] = (float) (2 * Math.exp(-d2 / (2 * s * s)) - 0.5);
                }
            }
        }
        return x;
    }
}
