package org.maejvm.dist;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Ranks as threads of one process, exchanging through shared memory: for tests, and for data-parallel training on
 * one machine with separate model replicas. {@link #group} makes the communicators of all ranks; give each to its
 * own thread.
 *
 * <p>An all-reduce has every rank reduce its own slice of the range over all ranks' buffers (in rank order) into
 * a shared result, then copy the result back: each element is reduced once, so all ranks get identical bits.
 */
public final class LocalCommunicator extends Communicator {
    private final Group group;
    private final int rank;

    private LocalCommunicator(Group group, int rank) {
        this.group = group;
        this.rank = rank;
    }

    /** The {@code worldSize} communicators of one group; a collective fails if a rank is missing for {@code timeout}. */
    public static List<Communicator> group(int worldSize, Duration timeout) {
        if (worldSize < 1) throw new IllegalArgumentException("world size must be >= 1, got " + worldSize);
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout must be > 0, got " + timeout);
        Group g = new Group(worldSize, timeout.toNanos());
        List<Communicator> out = new ArrayList<>(worldSize);
        for (int r = 0; r < worldSize; r++) out.add(new LocalCommunicator(g, r));
        return List.copyOf(out);
    }

    /** A group whose collectives wait up to 10 minutes for a slow rank. */
    public static List<Communicator> group(int worldSize) {
        return group(worldSize, Duration.ofMinutes(10));
    }

    @Override public int rank() { return rank; }

    @Override public int worldSize() { return group.world; }

    @Override
    public void allReduce(float[] buf, int offset, int length, ReduceOp op) {
        checkRange("allReduce", buf, offset, length);
        Objects.requireNonNull(op, "op");
        int w = group.world;
        if (w == 1) return;
        group.arrive(rank, "allReduce(" + length + " floats, " + op + ")", buf, offset, length);
        // Reduce my slice over all ranks, in rank order, into the shared result.
        int lo = (int) ((long) length * rank / w);
        int hi = (int) ((long) length * (rank + 1) / w);
        float[] result = group.result;
        for (int i = lo; i < hi; i++) {
            float s = 0;
            for (int k = 0; k < w; k++) s += group.bufs[k][group.offsets[k] + i];
            result[i] = op == ReduceOp.AVERAGE ? s / w : s;
        }
        group.arrive(rank, "allReduce(" + length + " floats, " + op + ") result", null, 0, length);
        System.arraycopy(result, 0, buf, offset, length);
    }

    @Override
    public void broadcast(float[] buf, int offset, int length, int root) {
        checkRange("broadcast", buf, offset, length);
        checkRoot("broadcast", root);
        if (group.world == 1) return;
        group.arrive(rank, "broadcast(" + length + " floats from rank " + root + ")", buf, offset, length);
        if (rank != root) System.arraycopy(group.bufs[root], group.offsets[root], buf, offset, length);
        // Nobody may reuse the root's buffer before every rank has copied it.
        group.arrive(rank, "broadcast(" + length + " floats from rank " + root + ") copied", null, 0, length);
    }

    @Override
    public void barrier() {
        if (group.world > 1) group.arrive(rank, "barrier", null, 0, 0);
    }

    @Override
    public void close() {
        group.leave(rank);
    }

    /** The state all ranks share: the buffers of the collective under way and a reusable gate. */
    private static final class Group {
        final int world;
        final long timeoutNanos;
        final float[][] bufs;
        final int[] offsets;
        final String[] calls;
        final boolean[] arrived;
        final boolean[] closed;
        float[] result = new float[0];
        int count;
        long generation;
        CommunicatorException broken;

        Group(int world, long timeoutNanos) {
            this.world = world;
            this.timeoutNanos = timeoutNanos;
            this.bufs = new float[world][];
            this.offsets = new int[world];
            this.calls = new String[world];
            this.arrived = new boolean[world];
            this.closed = new boolean[world];
        }

        /** Waits until every rank has arrived with the same call; the last to arrive opens the gate. */
        synchronized void arrive(int rank, String call, float[] buf, int offset, int length) {
            if (closed[rank]) throw new CommunicatorException("rank " + rank + ": the communicator is closed");
            if (broken != null) throw new CommunicatorException("rank " + rank + ": " + broken.getMessage(), broken);
            for (int k = 0; k < world; k++) {
                if (closed[k]) {
                    breakWith("rank " + k + " closed its communicator; rank " + rank + " cannot run " + call);
                    throw new CommunicatorException(broken.getMessage());
                }
            }
            if (buf != null) {
                bufs[rank] = buf;
                offsets[rank] = offset;
            }
            calls[rank] = call;
            arrived[rank] = true;
            long gen = generation;
            if (++count == world) {
                for (int k = 1; k < world; k++) {
                    if (!calls[k].equals(calls[0])) {
                        breakWith("mismatched collectives: rank 0 called " + calls[0] + " but rank " + k + " called "
                                + calls[k] + " (every rank must make the same calls in the same order)");
                        throw new CommunicatorException("rank " + rank + ": " + broken.getMessage());
                    }
                }
                if (buf != null && result.length < length) result = new float[length];
                count = 0;
                Arrays.fill(arrived, false);
                generation++;
                notifyAll();
                return;
            }
            long deadline = System.nanoTime() + timeoutNanos;
            while (generation == gen && broken == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    breakWith(ranks(missing()) + " did not reach " + call + " within "
                            + Duration.ofNanos(timeoutNanos) + " (stuck, or failed without closing?)");
                    break;
                }
                try {
                    wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    breakWith("rank " + rank + " was interrupted while waiting in " + call);
                }
            }
            if (generation == gen) throw new CommunicatorException("rank " + rank + ": " + broken.getMessage(), broken);
        }

        synchronized void leave(int rank) {
            if (closed[rank]) return;
            closed[rank] = true;
            // Ranks already waiting for this one would otherwise wait for the whole timeout.
            if (count > 0 && broken == null) breakWith("rank " + rank + " closed its communicator while "
                    + ranks(arrivedList()) + " waited for it in " + firstCall());
        }

        private void breakWith(String message) {
            broken = new CommunicatorException(message);
            notifyAll();
        }

        private List<Integer> missing() {
            List<Integer> m = new ArrayList<>();
            for (int k = 0; k < world; k++) if (!arrived[k]) m.add(k);
            return m;
        }

        private List<Integer> arrivedList() {
            List<Integer> m = new ArrayList<>();
            for (int k = 0; k < world; k++) if (arrived[k]) m.add(k);
            return m;
        }

        private static String ranks(List<Integer> rs) {
            String list = rs.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(", "));
            return (rs.size() == 1 ? "rank " : "ranks ") + list;
        }

        private String firstCall() {
            for (int k = 0; k < world; k++) if (arrived[k]) return calls[k];
            return "a collective";
        }
    }
}
