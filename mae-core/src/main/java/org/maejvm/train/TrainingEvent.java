package org.maejvm.train;

import java.nio.file.Path;

/** What a pretraining run reports, in order: Started, then Step / EpochEnd / CheckpointSaved, then Finished. */
public sealed interface TrainingEvent {

    /** Training begins (or resumes) at {@code epoch}, data step {@code step}. */
    record Started(PretrainConfig config, int epoch, int step, long globalStep, int stepsPerEpoch,
                   long trainableParameters, String backend, Path resumedFrom) implements TrainingEvent {}

    /**
     * One data step done: {@code step} is its index within {@code epoch}, {@code globalStep} the steps done in all
     * (1-based after this step), {@code optimizerStepped} whether it ended an accumulation cycle.
     */
    record Step(int epoch, int step, long globalStep, float loss, double lr, double imagesPerSecond,
                boolean optimizerStepped) implements TrainingEvent {}

    /** An epoch done: mean loss and mean lr over its steps, images skipped by the data pipeline. */
    record EpochEnd(int epoch, double meanLoss, double lr, int steps, long images, long skippedImages,
                    double seconds) implements TrainingEvent {}

    record CheckpointSaved(Path path, int epoch, int step, long globalStep) implements TrainingEvent {}

    /** The run ended: all epochs done, or {@code stopped} early on request (after saving a checkpoint). */
    record Finished(boolean stopped, int epoch, int step, long globalStep, double lastLoss, double seconds,
                    Path lastCheckpoint) implements TrainingEvent {}
}
