package org.maejvm.data;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Which dataset indices go into which batch in one epoch on one rank: a seeded permutation of all items (or
 * identity order), the rank's shard of it, cut into batches.
 *
 * <p>Sharding is strided like PyTorch's {@code DistributedSampler}: rank {@code r} takes permutation positions
 * {@code r, r + W, r + 2W, ...}, so shards are disjoint and together cover the epoch, but no item is repeated to
 * even them out: shard sizes differ by at most one. With drop-last every rank is cut to {@code floor(N / W)}
 * items, so all ranks run the same number of full batches (what synchronous data-parallel training needs).
 */
public final class EpochPlan {
    private EpochPlan() {}

    /** The epoch's order of all {@code n} items: a Fisher-Yates shuffle seeded by (seed, epoch), or 0..n-1. */
    public static int[] permutation(int n, long seed, int epoch, boolean shuffle) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        return shuffle ? shuffleInPlace(order, Seeds.forShuffle(seed, epoch)) : order;
    }

    /** Fisher-Yates shuffle of {@code order} in place with {@code rng}; returns it. */
    public static int[] shuffleInPlace(int[] order, SplittableRandom rng) {
        for (int i = order.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** Rank {@code rank}'s items of {@code order}: positions {@code rank, rank + worldSize, ...}. */
    public static int[] shard(int[] order, int rank, int worldSize) {
        checkShard(rank, worldSize);
        int n = order.length;
        int count = n / worldSize + (rank < n % worldSize ? 1 : 0);
        int[] mine = new int[count];
        for (int k = 0; k < count; k++) mine[k] = order[rank + k * worldSize];
        return mine;
    }

    /** Cuts {@code items} into batches; with {@code dropLast} only full batches within the first {@code limit} items. */
    public static List<int[]> batches(int[] items, int batchSize, boolean dropLast, int limit) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        int n = Math.min(items.length, limit);
        int count = dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
        List<int[]> out = new ArrayList<>(count);
        for (int b = 0; b < count; b++) {
            int from = b * batchSize;
            int to = Math.min(from + batchSize, n);
            int[] batch = new int[to - from];
            System.arraycopy(items, from, batch, 0, batch.length);
            out.add(batch);
        }
        return out;
    }

    /** The batches of one epoch on one rank. */
    public static List<int[]> plan(int datasetSize, int batchSize, long seed, int epoch, boolean shuffle,
                                   boolean dropLast, int rank, int worldSize) {
        int[] mine = shard(permutation(datasetSize, seed, epoch, shuffle), rank, worldSize);
        // Equal work per rank under drop-last: the smallest shard's size.
        int limit = dropLast ? datasetSize / worldSize : Integer.MAX_VALUE;
        return batches(mine, batchSize, dropLast, limit);
    }

    /** Batches per epoch on {@code rank}, without building the plan. */
    public static int batchCount(int datasetSize, int batchSize, boolean dropLast, int rank, int worldSize) {
        checkShard(rank, worldSize);
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        if (dropLast) return (datasetSize / worldSize) / batchSize;
        int n = datasetSize / worldSize + (rank < datasetSize % worldSize ? 1 : 0);
        return (n + batchSize - 1) / batchSize;
    }

    static void checkShard(int rank, int worldSize) {
        if (worldSize < 1 || rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("shard needs worldSize >= 1 and 0 <= rank < worldSize, got rank="
                    + rank + " worldSize=" + worldSize);
        }
    }
}
