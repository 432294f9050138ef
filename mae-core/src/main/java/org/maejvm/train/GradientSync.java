package org.maejvm.train;

import org.maejvm.nn.ParameterSet;

/**
 * The seam for data-parallel training (DESIGN.md, "more than one machine"): each process computes gradients on its
 * shard, then {@link #allReduceMean} averages them before the optimizer step; {@link #broadcast} makes every rank
 * start from rank 0's weights; {@link #barrier} lines ranks up around checkpoints. One process needs none of it.
 */
public interface GradientSync {
    /** Averages every trainable parameter's gradient over all ranks, in place. */
    void allReduceMean(ParameterSet params);

    /** Copies rank 0's parameter values to every rank. */
    void broadcast(ParameterSet params);

    /** Returns when every rank has reached it. */
    void barrier();

    /** This process's rank, 0 for a single process; only rank 0 writes checkpoints and logs. */
    default int rank() { return 0; }

    default int worldSize() { return 1; }

    /**
     * True on every rank when {@code local} is true on any rank: decisions one rank makes alone (a stop request)
     * must be taken by all, or the others would wait in the next all-reduce forever.
     */
    default boolean anyRank(boolean local) { return local; }

    /** One process: nothing to average, broadcast or wait for. */
    GradientSync NONE = new GradientSync() {
        @Override public void allReduceMean(ParameterSet params) {}
        @Override public void broadcast(ParameterSet params) {}
        @Override public void barrier() {}
        @Override public String toString() { return "GradientSync.NONE"; }
    };
}
