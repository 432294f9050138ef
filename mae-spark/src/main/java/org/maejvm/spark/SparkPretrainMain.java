package org.maejvm.spark;

import java.nio.file.Path;
import java.util.Locale;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.maejvm.train.PretrainConfig;
import org.maejvm.train.TrainingEvent;

/**
 * The {@code spark-submit} entry point:
 *
 * <pre>
 * spark-submit --class org.maejvm.spark.SparkPretrainMain --num-executors 4 --executor-cores 8 \
 *     --conf spark.task.cpus=8 --jars mae-core.jar,mae-simd.jar,... mae-spark.jar \
 *     --data /shared/images/train --workers 4 --model mae_vit_tiny --epochs 100 --batch-size 64 \
 *     --output /shared/runs/mae-tiny
 * </pre>
 *
 * Options: {@code --config FILE} (pretraining config JSON, official names) and then any of {@code --data},
 * {@code --workers}, {@code --model}, {@code --epochs}, {@code --batch-size}, {@code --accum-iter}, {@code --blr},
 * {@code --warmup-epochs}, {@code --seed}, {@code --output}, {@code --save-every-steps}, {@code --limit},
 * {@code --backend}, {@code --threads}, {@code --resume}, {@code --master} (when not given by spark-submit).
 */
public final class SparkPretrainMain {
    private SparkPretrainMain() {}

    public static void main(String[] args) throws Exception {
        PretrainConfig.Builder b = PretrainConfig.builder().model("mae_vit_tiny_fmnist").outputDir("output_dir");
        String data = "fashion-mnist", backend = "simd", master = null, resume = null;
        int workers = 2, threads = 0;
        Integer limit = null;
        Integer epochs = null;
        Double warmup = null;
        for (int i = 0; i < args.length; i++) {
            String opt = args[i];
            if (opt.equals("--help") || opt.equals("-h")) {
                System.out.println("usage: SparkPretrainMain [--config FILE] [--data DIR|fashion-mnist|synthetic:N] [--workers N]"
                        + " [--model NAME] [--epochs N] [--batch-size N] [--accum-iter N] [--blr X] [--warmup-epochs X]"
                        + " [--seed N] [--output DIR] [--save-every-steps N] [--limit N] [--backend NAME] [--threads N]"
                        + " [--resume FILE] [--master URL]");
                return;
            }
            if (i + 1 >= args.length) throw new IllegalArgumentException(opt + " needs a value");
            String v = args[++i];
            switch (opt) {
                case "--config" -> b = PretrainConfig.read(Path.of(v)).toBuilder();
                case "--data" -> data = v;
                case "--workers" -> workers = Integer.parseInt(v);
                case "--model" -> b.model(v);
                case "--epochs" -> epochs = Integer.parseInt(v);
                case "--batch-size" -> b.batchSize(Integer.parseInt(v));
                case "--accum-iter" -> b.accumIter(Integer.parseInt(v));
                case "--blr" -> b.blr(Double.parseDouble(v));
                case "--warmup-epochs" -> warmup = Double.parseDouble(v);
                case "--seed" -> b.seed(Long.parseLong(v));
                case "--output" -> b.outputDir(v);
                case "--save-every-steps" -> b.saveEverySteps(Integer.parseInt(v));
                case "--limit" -> limit = Integer.parseInt(v);
                case "--backend" -> backend = v;
                case "--threads" -> threads = Integer.parseInt(v);
                case "--resume" -> resume = v;
                case "--master" -> master = v;
                default -> throw new IllegalArgumentException("unknown option " + opt + " (see --help)");
            }
        }
        if (epochs != null) {
            b.epochs(epochs);
            if (warmup == null) b.warmupEpochs(Math.min(40, epochs / 10.0)); // the official 40 would swallow a short run
        }
        if (warmup != null) b.warmupEpochs(warmup);
        PretrainConfig config = b.build();
        SparkConf conf = new SparkConf().setAppName("mae-jvm pretraining");
        if (master != null) conf.setMaster(master);
        SparkContext sc = new SparkContext(conf);
        try {
            TrainingEvent.Finished f = SparkPretraining.builder(config, data).workers(workers).limit(limit)
                    .backend(backend).threads(threads).resume(resume).listener(SparkPretrainMain::print).run(sc);
            System.out.printf(Locale.ROOT, "done after %d steps (epoch %d) in %.1f s; last loss %.4f; checkpoint %s%n",
                    f.globalStep(), f.epoch(), f.seconds(), f.lastLoss(), f.lastCheckpoint());
        } finally {
            sc.stop();
        }
    }

    private static void print(TrainingEvent e) {
        switch (e) {
            case TrainingEvent.Started s -> System.out.printf(Locale.ROOT,
                    "rank 0: %,d trainable parameters, %d steps/epoch per rank, from epoch %d step %d%s%n",
                    s.trainableParameters(), s.stepsPerEpoch(), s.epoch(), s.step(),
                    s.resumedFrom() == null ? "" : " (resumed from " + s.resumedFrom() + ")");
            case TrainingEvent.EpochEnd x -> System.out.printf(Locale.ROOT,
                    "epoch %d: loss %.4f, lr %.3e, %.1f s (rank 0: %.0f img/s)%n", x.epoch() + 1, x.meanLoss(), x.lr(),
                    x.seconds(), x.images() / Math.max(x.seconds(), 1e-9));
            case TrainingEvent.CheckpointSaved c -> System.out.println("  saved " + c.path());
            default -> { }
        }
    }
}
