package org.maejvm.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.maejvm.dist.ReduceOp;
import org.maejvm.dist.TcpCommunicator;
import org.maejvm.nn.ParameterSet;
import org.maejvm.ops.Backend;
import org.maejvm.ops.Backends;
import org.maejvm.train.EpochSource;
import org.maejvm.train.GradientSync;
import org.maejvm.train.PretrainConfig;
import org.maejvm.train.Pretrainer;
import org.maejvm.train.TrainingEvent;

/**
 * Data-parallel costs with every rank in its own JVM on this machine, talking over loopback TCP:
 *
 * <pre>
 * DistBenchmark allreduce [--floats 6000000,25000000] [--ranks 2,3,4] [--iters 10]
 * DistBenchmark train [--ranks 1,2,4] [--model mae_vit_tiny_fmnist] [--batch 32] [--steps 12] [--backend simd]
 * </pre>
 *
 * {@code allreduce}: time of one ring all-reduce (AVERAGE) of a gradient-sized buffer, median over the
 * iterations after one warm-up. {@code train}: global images/s of synthetic-data pretraining steps (the first
 * few are warm-up and not timed), scaling efficiency against one process, and the share of the step spent in the
 * gradient all-reduce. Each rank gets {@code max(1, cores / ranks)} compute threads.
 */
public final class DistBenchmark {
    private DistBenchmark() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: DistBenchmark allreduce|train [options] (see the class comment)");
            System.exit(2);
        }
        switch (args[0]) {
            case "allreduce" -> allReduceTable(args);
            case "train" -> trainTable(args);
            case "rank-allreduce" -> rankAllReduce(args);
            case "rank-train" -> rankTrain(args);
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }

    // ------------------------------------------------------------------ driver side

    private static void allReduceTable(String[] args) throws Exception {
        int[] floats = ints(option(args, "--floats", "6000000,25000000"));
        int[] ranks = ints(option(args, "--ranks", "2,3,4"));
        int iters = Integer.parseInt(option(args, "--iters", "10"));
        System.out.println(header());
        System.out.println("| floats | ranks | median ms / all-reduce | min ms | algorithm bandwidth GB/s |");
        System.out.println("|---:|---:|---:|---:|---:|");
        for (int n : floats) {
            for (int w : ranks) {
                String line = launch(w, "rank-allreduce", Integer.toString(n), Integer.toString(iters)).get(0);
                double[] t = Arrays.stream(line.split(" ")).mapToDouble(Double::parseDouble).toArray();
                // bytes each rank sends: 2 (W - 1) / W of the buffer
                double gbps = 2.0 * (w - 1) / w * n * 4 / (t[0] * 1e-3) / 1e9;
                System.out.printf(Locale.ROOT, "| %,d | %d | %.1f | %.1f | %.2f |%n", n, w, t[0], t[1], gbps);
            }
        }
    }

    private static void trainTable(String[] args) throws Exception {
        int[] ranks = ints(option(args, "--ranks", "1,2,4"));
        String model = option(args, "--model", "mae_vit_tiny_fmnist");
        String batch = option(args, "--batch", "32");
        String steps = option(args, "--steps", "12");
        String backend = option(args, "--backend", "simd");
        System.out.println(header());
        System.out.println("model " + model + ", batch " + batch + " per rank, " + backend + " backend");
        System.out.println("| ranks | threads / rank | images/s (all ranks) | scaling efficiency | ms / step | all-reduce ms / step | communication share |");
        System.out.println("|---:|---:|---:|---:|---:|---:|---:|");
        double base = 0;
        for (int w : ranks) {
            int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / w);
            String line = launch(w, "rank-train", model, batch, steps, backend, Integer.toString(threads)).get(0);
            double[] t = Arrays.stream(line.split(" ")).mapToDouble(Double::parseDouble).toArray();
            double ips = t[0], stepMs = t[1], commMs = t[2];
            if (w == ranks[0]) base = ips / w;
            System.out.printf(Locale.ROOT, "| %d | %d | %.1f | %.0f%% | %.0f | %.1f | %.1f%% |%n", w, threads, ips,
                    100 * ips / (w * base), stepMs, commMs, 100 * commMs / stepMs);
        }
    }

    private static String header() {
        String load;
        try {
            load = Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            load = "n/a";
        }
        return String.format(Locale.ROOT, "%d cores, load average %s, %s", Runtime.getRuntime().availableProcessors(),
                load, System.getProperty("java.vm.version"));
    }

    /** Starts {@code world} rank JVMs and returns the result lines of rank 0 (prefixed "RESULT "). */
    private static List<String> launch(int world, String mode, String... rest) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> procs = new ArrayList<>();
        for (int r = 0; r < world; r++) {
            List<String> cmd = new ArrayList<>(List.of(java, "--add-modules=jdk.incubator.vector",
                    "--enable-native-access=ALL-UNNAMED", "-Xmx2g", "-cp", System.getProperty("java.class.path"),
                    DistBenchmark.class.getName(), mode, Integer.toString(port), Integer.toString(r),
                    Integer.toString(world)));
            cmd.addAll(List.of(rest));
            procs.add(new ProcessBuilder(cmd).redirectErrorStream(true).start());
        }
        List<String> results = new ArrayList<>();
        StringBuilder logs = new StringBuilder();
        try {
            for (int r = 0; r < world; r++) {
                Process p = procs.get(r);
                try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        if (line.startsWith("RESULT ")) results.add(line.substring(7));
                        else if (!line.startsWith("WARNING")) logs.append("rank ").append(r).append(": ").append(line).append('\n');
                    }
                }
                if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
                    throw new IllegalStateException("rank " + r + " failed:\n" + logs);
                }
            }
        } finally {
            procs.forEach(Process::destroyForcibly);
        }
        if (results.isEmpty()) throw new IllegalStateException("rank 0 printed no result:\n" + logs);
        return results;
    }

    // ------------------------------------------------------------------ rank side

    private static TcpCommunicator join(String[] args) throws IOException {
        InetSocketAddress coordinator = new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(args[1]));
        return TcpCommunicator.rendezvous(coordinator, Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                TcpCommunicator.Options.defaults().withConnectTimeout(Duration.ofMinutes(2)));
    }

    private static void rankAllReduce(String[] args) throws IOException {
        int n = Integer.parseInt(args[4]);
        int iters = Integer.parseInt(args[5]);
        try (TcpCommunicator comm = join(args)) {
            float[] buf = new float[n];
            SplittableRandom rng = new SplittableRandom(comm.rank());
            for (int i = 0; i < n; i++) buf[i] = (float) rng.nextGaussian();
            comm.allReduce(buf, ReduceOp.AVERAGE); // warm-up: JIT, socket buffers
            double[] ms = new double[iters];
            for (int it = 0; it < iters; it++) {
                comm.barrier();
                long t0 = System.nanoTime();
                comm.allReduce(buf, ReduceOp.AVERAGE);
                ms[it] = (System.nanoTime() - t0) * 1e-6;
            }
            Arrays.sort(ms);
            if (comm.rank() == 0) System.out.printf(Locale.ROOT, "RESULT %.3f %.3f%n", ms[iters / 2], ms[0]);
        }
    }

    private static void rankTrain(String[] args) throws Exception {
        String model = args[4];
        int batch = Integer.parseInt(args[5]);
        int steps = Integer.parseInt(args[6]);
        String backendName = args[7];
        int threads = Integer.parseInt(args[8]);
        int warmup = 3;
        try (TcpCommunicator comm = join(args); Backend backend = Backends.create(backendName, threads)) {
            int world = comm.worldSize();
            PretrainConfig config = PretrainConfig.builder().model(model).epochs(1).batchSize(batch).warmupEpochs(0)
                    .worldSize(world).seed(1).build();
            int size = config.modelConfig().imgSize(), ch = config.modelConfig().inChans();
            int n = world * batch * (steps + warmup);
            float[] images = new float[n * ch * size * size];
            SplittableRandom rng = new SplittableRandom(9);
            for (int i = 0; i < images.length; i++) images[i] = (float) rng.nextGaussian();
            EpochSource data = EpochSource.inMemory(images, n, ch, size, size, batch, 1, comm.rank(), world);
            TimedSync sync = new TimedSync(comm);
            long[] timedFrom = {0};
            Pretrainer trainer = new Pretrainer(config, data, backend).gradientSync(sync).listener(e -> {
                if (e instanceof TrainingEvent.Step s && s.globalStep() == warmup) {
                    comm.barrier();
                    sync.nanos = 0;
                    timedFrom[0] = System.nanoTime();
                }
            });
            trainer.run();
            double seconds = (System.nanoTime() - timedFrom[0]) * 1e-9;
            double ips = (double) world * batch * steps / seconds;
            if (comm.rank() == 0) {
                System.out.printf(Locale.ROOT, "RESULT %.2f %.2f %.2f%n", ips, 1e3 * seconds / steps,
                        sync.nanos * 1e-6 / steps);
            }
        }
    }

    /** Counts the time spent averaging gradients. */
    private static final class TimedSync implements GradientSync {
        private final TcpCommunicator comm;
        long nanos;

        TimedSync(TcpCommunicator comm) { this.comm = comm; }

        @Override public void allReduceMean(ParameterSet params) {
            long t0 = System.nanoTime();
            comm.allReduceMean(params);
            nanos += System.nanoTime() - t0;
        }

        @Override public void broadcast(ParameterSet params) { comm.broadcast(params); }
        @Override public void barrier() { comm.barrier(); }
        @Override public int rank() { return comm.rank(); }
        @Override public int worldSize() { return comm.worldSize(); }
        @Override public boolean anyRank(boolean local) { return comm.anyRank(local); }
    }

    private static String option(String[] args, String name, String fallback) {
        for (int i = 1; i + 1 < args.length; i++) if (args[i].equals(name)) return args[i + 1];
        return fallback;
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
    }
}
