package org.maejvm.model.masking;

import java.util.random.RandomGenerator;
import org.maejvm.model.MaskPlan;

/**
 * Chooses which patches each image of a batch hides. Every strategy returns the {@link MaskPlan} contract of MAE's
 * {@code random_masking} (mask, ids_restore, ids_keep) with the same number of kept patches in every image, since
 * the batched encoder takes the same count of visible tokens from each. All randomness comes from {@code rng}, so
 * a plan is a pure function of the generator's seed.
 *
 * <p>Strategies: {@link RandomMasking} (official MAE), {@link BlockMasking} (BEiT/CAE blocks),
 * {@link GridMasking} (one kept patch per k x k cell), {@link FocusMasking} (weighted random). {@link MaskingSpec}
 * names them in configs and on the command line.
 */
public interface MaskingStrategy {

    /** A plan for {@code batch} images of {@code gridH x gridW} patches that removes about {@code maskRatio} of them. */
    MaskPlan plan(int batch, int gridH, int gridW, double maskRatio, RandomGenerator rng);

    /** The spec this strategy is written as in configs ({@code random}, {@code block:min=16}, ...). */
    String spec();

    /** Patches kept per image for a ratio: {@code int(L * (1 - ratio))}, as the official code. */
    static int keepCount(int patches, double maskRatio) {
        if (!(maskRatio >= 0 && maskRatio < 1)) {
            throw new IllegalArgumentException("mask ratio must be in [0, 1), got " + maskRatio);
        }
        int keep = (int) (patches * (1.0 - maskRatio));
        if (keep < 1) throw new IllegalArgumentException("mask ratio " + maskRatio + " keeps no patch of " + patches);
        return keep;
    }

    static void checkSizes(int batch, int gridH, int gridW) {
        if (batch < 1 || gridH < 1 || gridW < 1) {
            throw new IllegalArgumentException("masking needs batch >= 1 and a grid of at least 1x1 patches, got batch "
                    + batch + ", grid " + gridH + "x" + gridW);
        }
    }
}
