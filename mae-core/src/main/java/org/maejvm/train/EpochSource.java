package org.maejvm.train;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import org.maejvm.data.Batch;
import org.maejvm.data.EpochPlan;
import org.maejvm.data.DataLoader;
import org.maejvm.data.DataStats;

/**
 * Where the training loop gets its batches: one pass per epoch. For resume to be exact, the batches of an epoch
 * must be a pure function of (seed, epoch) (the data loader's contract), so the loop can skip to a step by
 * reading past the batches before it.
 */
public interface EpochSource {
    /** The number of batches an epoch is planned to have ({@code len(data_loader)}): it scales the lr schedule. */
    int stepsPerEpoch();

    /** The batches of {@code epoch}, from its first; the loop closes the iterator when it is done with it. */
    EpochIterator epoch(int epoch);

    /** Images of {@code epoch} skipped because they could not be read (after the epoch was fully read). */
    default long skippedImages(int epoch) { return 0; }

    /** A blocking iterator over one epoch that can be closed early. */
    interface EpochIterator extends Iterator<Batch>, AutoCloseable {
        @Override
        void close();

        static EpochIterator of(Iterator<Batch> it) {
            return new EpochIterator() {
                @Override public boolean hasNext() { return it.hasNext(); }
                @Override public Batch next() { return it.next(); }
                @Override public void close() {
                    if (it instanceof AutoCloseable c) {
                        try {
                            c.close();
                        } catch (Exception e) {
                            throw new IllegalStateException("closing the epoch's batch iterator failed: " + e, e);
                        }
                    }
                }
            };
        }
    }

    /**
     * The data loader's epochs ({@code main_pretrain.py}'s DataLoader): its seeded order and augmentation make an
     * epoch a pure function of (seed, epoch), as exact resume needs.
     */
    static EpochSource of(DataLoader loader) {
        return new EpochSource() {
            @Override public int stepsPerEpoch() { return loader.batchesPerEpoch(); }
            @Override public EpochIterator epoch(int epoch) { return EpochIterator.of(loader.iterator(epoch)); }
            @Override public long skippedImages(int epoch) {
                DataStats s = loader.getLastStats();
                return s != null && s.epoch() == epoch ? s.skipped() : 0;
            }
        };
    }

    /** The same batches every epoch, in the given order (tests, tiny in-memory data). */
    static EpochSource fixed(List<Batch> batches) {
        List<Batch> copy = List.copyOf(batches);
        if (copy.isEmpty()) throw new IllegalArgumentException("an epoch needs at least one batch, got none");
        return new EpochSource() {
            @Override public int stepsPerEpoch() { return copy.size(); }
            @Override public EpochIterator epoch(int epoch) { return EpochIterator.of(copy.iterator()); }
        };
    }

    /**
     * Images held in memory ({@code [n, c, h, w]} floats), reshuffled every epoch from (seed, epoch) and cut into
     * full batches (drop-last, as main_pretrain.py's loader).
     */
    static EpochSource inMemory(float[] images, int n, int channels, int height, int width, int batchSize, long seed) {
        return inMemory(images, n, channels, height, width, batchSize, seed, 0, 1);
    }

    /**
     * Rank {@code rank}'s shard of the in-memory images (as {@code DistributedSampler}): the epoch's permutation is
     * the same on every rank, rank r takes positions {@code r, r + W, ...} of it, each rank cut to
     * {@code floor(n / W)} images so all ranks run the same number of full batches. Together the ranks' k-th
     * batches hold exactly the images of the k-th batch of {@code W * batchSize} in one process.
     */
    static EpochSource inMemory(float[] images, int n, int channels, int height, int width, int batchSize, long seed,
                                int rank, int worldSize) {
        int per = channels * height * width;
        if ((long) n * per != images.length) {
            throw new IllegalArgumentException(images.length + " floats are not " + n + " images of [" + channels
                    + ", " + height + ", " + width + "]");
        }
        if (worldSize < 1 || rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("shard needs worldSize >= 1 and 0 <= rank < worldSize, got rank="
                    + rank + " worldSize=" + worldSize);
        }
        int shardSize = n / worldSize;
        if (batchSize < 1 || batchSize > shardSize) {
            throw new IllegalArgumentException("batch size must be in [1, " + shardSize + " images per rank] ("
                    + n + " images over " + worldSize + " ranks), got " + batchSize);
        }
        int steps = shardSize / batchSize;
        return new EpochSource() {
            @Override public int stepsPerEpoch() { return steps; }

            @Override public EpochIterator epoch(int epoch) {
                int[] order = EpochPlan.shard(shuffled(n, seed, epoch), rank, worldSize);
                List<Batch> out = new ArrayList<>(steps);
                for (int s = 0; s < steps; s++) {
                    float[] x = new float[batchSize * per];
                    int[] idx = new int[batchSize];
                    for (int i = 0; i < batchSize; i++) {
                        idx[i] = order[s * batchSize + i];
                        System.arraycopy(images, idx[i] * per, x, i * per, per);
                    }
                    out.add(new Batch(x, batchSize, channels, height, width, new int[batchSize], idx));
                }
                return EpochIterator.of(out.iterator());
            }
        };
    }

    private static int[] shuffled(int n, long seed, int epoch) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        return EpochPlan.shuffleInPlace(order, new SplittableRandom(Streams.derive(seed, Streams.SHUFFLE, epoch)));
    }
}
