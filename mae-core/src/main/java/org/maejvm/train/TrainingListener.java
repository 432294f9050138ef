package org.maejvm.train;

/** Receives a run's events on the training thread; keep it quick, training waits for it. */
@FunctionalInterface
public interface TrainingListener {
    void onEvent(TrainingEvent event);

    TrainingListener NONE = e -> {};
}
