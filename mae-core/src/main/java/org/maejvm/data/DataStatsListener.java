package org.maejvm.data;

/** Called once at the end of each fully collected epoch, on the collecting thread. */
@FunctionalInterface
public interface DataStatsListener {
    void onEpochEnd(DataStats stats);
}
