package org.maejvm.spark;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import org.maejvm.train.PretrainConfig;
import org.maejvm.train.TrainingEvent;
import org.maejvm.train.TrainingListener;
import scala.reflect.ClassTag$;

/**
 * Data-parallel MAE pretraining on a Spark cluster, the Horovod-on-Spark way: one barrier stage with one
 * long-lived task per worker runs the whole training loop; the tasks exchange their ring addresses once through
 * the barrier all-gather and then average gradients among themselves over TCP ({@link org.maejvm.dist.TcpCommunicator}),
 * not through the driver. Rank 0 writes checkpoints and streams its training events to the driver's listener. If
 * a task fails, Spark retries the whole barrier stage and every rank resumes from the last checkpoint.
 *
 * <pre>{@code
 * TrainingEvent.Finished f = SparkPretraining.builder(config, "/shared/imagenet/train")
 *         .workers(8).backend("simd").listener(System.out::println)
 *         .run(spark.sparkContext());
 * }</pre>
 *
 * <p>The cluster needs as many free task slots as workers (barrier stages start all tasks at once), and the
 * output folder and the data must be on storage every executor sees.
 */
public final class SparkPretraining {
    private final PretrainConfig config;
    private final String data;
    private int workers = 2;
    private Integer limit;
    private String backend = "simd";
    private int threads;
    private Duration timeout = Duration.ofMinutes(10);
    private TrainingListener listener = TrainingListener.NONE;
    private String resume;
    private int failRank = -1;
    private long failAtStep = -1;

    private SparkPretraining(PretrainConfig config, String data) {
        this.config = Objects.requireNonNull(config, "config");
        this.data = Objects.requireNonNull(data, "data");
    }

    /**
     * Trains {@code config} on {@code data}: a folder every executor sees, {@code fashion-mnist}, or
     * {@code synthetic:<n>}. The config's world_size is set to the number of workers.
     */
    public static SparkPretraining builder(PretrainConfig config, String data) {
        return new SparkPretraining(config, data);
    }

    /** Ranks = barrier tasks (default 2); give one per executor, each with the cores for its backend threads. */
    public SparkPretraining workers(int n) {
        if (n < 1) throw new IllegalArgumentException("workers must be >= 1, got " + n);
        workers = n;
        return this;
    }

    /** Use only the first {@code n} images. */
    public SparkPretraining limit(Integer n) { limit = n; return this; }

    /** Compute backend on each executor (default simd). */
    public SparkPretraining backend(String name) { backend = Objects.requireNonNull(name); return this; }

    /** Compute threads per task (0 = all cores of the executor). */
    public SparkPretraining threads(int n) { threads = n; return this; }

    /** How long a rank waits for a silent peer before failing the stage (default 10 minutes). */
    public SparkPretraining timeout(Duration t) { timeout = Objects.requireNonNull(t); return this; }

    /** Receives rank 0's training events on the driver. */
    public SparkPretraining listener(TrainingListener l) { listener = Objects.requireNonNull(l); return this; }

    /** Continue from a checkpoint on shared storage. */
    public SparkPretraining resume(String checkpoint) { resume = checkpoint; return this; }

    /** Test hook: rank {@code rank} fails once, on the first stage attempt, after data step {@code globalStep}. */
    SparkPretraining failOnce(int rank, long globalStep) {
        failRank = rank;
        failAtStep = globalStep;
        return this;
    }

    /** Runs the barrier stage and returns rank 0's end of training; blocks until it is done. */
    public TrainingEvent.Finished run(SparkContext sc) throws IOException {
        PretrainConfig c = config.toBuilder().worldSize(workers).build().validate();
        String host = sc.getConf().get("spark.driver.host", java.net.InetAddress.getLocalHost().getHostAddress());
        try (ProgressServer progress = new ProgressServer(host, listener)) {
            SparkJob job = new SparkJob(c.toJson(), data, limit, backend, threads, workers, timeout.toMillis(),
                    progress.host(), progress.port(), resume, failRank, failAtStep);
            List<Integer> ranks = new ArrayList<>();
            for (int r = 0; r < workers; r++) ranks.add(r);
            JavaRDD<Integer> parts = JavaSparkContext.fromSparkContext(sc).parallelize(ranks, workers);
            sc.setJobDescription("MAE pretraining, " + workers + " ranks");
            RDD<String> out = parts.rdd().barrier()
                    .mapPartitions(new RankTask(job), false, ClassTag$.MODULE$.apply(String.class));
            // The shuffle makes the barrier stage a ShuffleMapStage: Spark retries a failed one as a whole, but
            // aborts the job when a barrier ResultStage fails.
            List<String> results = out.toJavaRDD().repartition(1).collect();
            for (String r : results) {
                if (r.startsWith("0 ")) return (TrainingEvent.Finished) EventCodec.decode(r.substring(2));
            }
            throw new IllegalStateException("rank 0 returned no result (got " + results.size() + " results)");
        }
    }
}
