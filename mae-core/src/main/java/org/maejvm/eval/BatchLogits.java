package org.maejvm.eval;

import org.maejvm.data.Batch;

/** A classifier seen from the evaluation: the logits of a batch, {@code [batch.size(), classes]} row-major. */
@FunctionalInterface
public interface BatchLogits {
    float[] logits(Batch batch);
}
