package org.maejvm.spark;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkEnv;
import org.maejvm.data.DataLoader;
import org.maejvm.data.Dataset;
import org.maejvm.data.TrainTransform;
import org.maejvm.dist.TcpCommunicator;
import org.maejvm.ops.Backend;
import org.maejvm.ops.Backends;
import org.maejvm.train.EpochSource;
import org.maejvm.train.MaskingNoise;
import org.maejvm.train.PretrainConfig;
import org.maejvm.train.Pretrainer;
import org.maejvm.train.TrainingEvent;
import org.maejvm.train.TrainingListener;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction1;

/**
 * One barrier task = one rank: learn the other tasks' ring addresses once through the barrier context's
 * all-gather, join the TCP ring, train this rank's shard, stream rank 0's events to the driver. On a retried stage
 * attempt every rank resumes from {@code checkpoint-last} in the output folder (which must be shared storage).
 */
final class RankTask extends AbstractFunction1<scala.collection.Iterator<Integer>, scala.collection.Iterator<String>>
        implements Serializable {
    private final SparkJob job;

    RankTask(SparkJob job) {
        this.job = job;
    }

    /** Runs this task's rank; the partition's only element is its index, the result rank 0's Finished event. */
    @Override
    public scala.collection.Iterator<String> apply(scala.collection.Iterator<Integer> partition) {
        try {
            return CollectionConverters.asScala(List.of(runRank()).iterator());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String runRank() throws IOException {
        BarrierTaskContext ctx = BarrierTaskContext.get();
        int rank = ctx.partitionId();
        int world = job.workers();
        boolean retry = ctx.stageAttemptNumber() > 0 || ctx.attemptNumber() > 0;
        // The host Spark itself reaches this executor at.
        String host = SparkEnv.get().blockManager().blockManagerId().host();
        TcpCommunicator.Options options = TcpCommunicator.Options.defaults()
                .withTimeout(Duration.ofMillis(job.timeoutMillis()));
        TcpCommunicator.Endpoint endpoint = TcpCommunicator.bind(new InetSocketAddress(host, 0));
        List<InetSocketAddress> ring = new ArrayList<>();
        try {
            String[] all = ctx.allGather(host + ":" + endpoint.address().getPort()); // ordered by partition
            for (String a : all) {
                int colon = a.lastIndexOf(':');
                ring.add(new InetSocketAddress(a.substring(0, colon), Integer.parseInt(a.substring(colon + 1))));
            }
        } catch (RuntimeException e) {
            endpoint.close();
            throw e;
        }
        PretrainConfig config = PretrainConfig.fromJson(job.configJson()).validate();
        try (TcpCommunicator comm = endpoint.join(rank, ring, options);
             Progress progress = rank == 0 ? new Progress(job.progressHost(), job.progressPort()) : null;
             Backend backend = Backends.create(job.backend(), job.threads())) {
            Dataset ds = DataSources.open(job.data(), config.modelConfig().inChans(), config.modelConfig().imgSize(),
                    job.limit());
            DataLoader loader = DataLoader.builder(ds, TrainTransform.mae(config.modelConfig().imgSize(), ds.normalization()))
                    .batchSize(config.batchSize()).seed(config.seed()).shard(rank, world).build();
            long seedOffset = 1_000_003L * rank;
            Pretrainer trainer = new Pretrainer(config, EpochSource.of(loader), backend)
                    .gradientSync(comm)
                    // Each rank masks with its own stream, as the official seed + rank.
                    .maskingNoise((seed, step, batch, patches) ->
                            MaskingNoise.PER_STEP.noise(seed + seedOffset, step, batch, patches))
                    .listener(listener(rank, retry, progress));
            Path last = config.outputDir() == null ? null : Path.of(config.outputDir()).resolve(Pretrainer.LAST);
            if (retry && last != null && Files.exists(last)) trainer.resume(last);
            else if (job.resume() != null) trainer.resume(Path.of(job.resume()));
            TrainingEvent.Finished f = trainer.run();
            return rank + " " + EventCodec.encode(f);
        }
    }

    private TrainingListener listener(int rank, boolean retry, Progress progress) {
        return e -> {
            if (progress != null) progress.send(e);
            if (!retry && rank == job.failRank() && e instanceof TrainingEvent.Step s && s.globalStep() == job.failAtStep()) {
                throw new IllegalStateException("injected failure of rank " + rank + " at global step " + s.globalStep());
            }
        };
    }

    /** Rank 0's line stream to the driver; a lost driver connection does not stop training. */
    private static final class Progress implements AutoCloseable {
        private Socket socket;
        private Writer out;

        Progress(String host, int port) {
            try {
                socket = new Socket(host, port);
                out = new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                socket = null;
            }
        }

        void send(TrainingEvent e) {
            if (out == null) return;
            try {
                out.write(EventCodec.encode(e));
                out.write('\n');
                out.flush();
            } catch (IOException err) {
                out = null;
            }
        }

        @Override
        public void close() throws IOException {
            if (socket != null) socket.close();
        }
    }
}
