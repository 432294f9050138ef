package org.maejvm.eval;

import java.util.List;
import java.util.Objects;
import java.util.function.IntConsumer;
import org.maejvm.data.Batch;
import org.maejvm.data.BatchIterator;
import org.maejvm.data.DataLoader;

/**
 * The official {@code engine_finetune.evaluate}: every batch of a validation loader through a classifier in eval
 * mode, accumulating {@link ClassificationMetrics}. The loader should be deterministic (an {@code EvalTransform},
 * no shuffling, no dropped last batch); unreadable images are skipped by the loader and not counted.
 */
public final class Evaluator {
    private Evaluator() {}

    /**
     * Evaluates {@code model} on epoch 0 of {@code loader}; {@code afterBatch} (may be null) receives the number of
     * images done after each batch, e.g. for a progress bar.
     */
    public static EvalResult evaluate(DataLoader loader, List<String> classNames, BatchLogits model,
                                      IntConsumer afterBatch) {
        Objects.requireNonNull(model, "model");
        ClassificationMetrics metrics = new ClassificationMetrics(classNames);
        try (BatchIterator it = loader.iterator(0)) {
            while (it.hasNext()) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new IllegalStateException("evaluation interrupted after " + metrics.count() + " images");
                }
                add(metrics, it.next(), model);
                if (afterBatch != null) afterBatch.accept((int) metrics.count());
            }
        }
        return metrics.result();
    }

    /** Runs one batch through {@code model} and adds it to {@code metrics}. */
    public static void add(ClassificationMetrics metrics, Batch batch, BatchLogits model) {
        float[] logits = model.logits(batch);
        if (logits.length != batch.size() * metrics.classes()) {
            throw new IllegalStateException("the model gave " + logits.length + " logits for a batch of "
                    + batch.size() + " and " + metrics.classes() + " classes; does its head match the data's classes?");
        }
        metrics.add(logits, batch.labels(), batch.size());
    }
}
