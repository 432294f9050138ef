package org.maejvm.model.masking;

import java.util.random.RandomGenerator;
import org.maejvm.model.MaskPlan;

/**
 * Regular masking: the grid is cut into {@code cell x cell} squares and one patch of each is kept, at the same
 * position (row offset, column offset) inside every square, so the mask ratio is exactly 1 - 1 / cell² (0.75 for
 * 2x2, as MAE's grid-sampling ablation). The offset is the top-left patch, or drawn per image when
 * {@code randomOffset} (from a generator seeded by the image's noise row).
 */
public record GridMasking(int cell, boolean randomOffset) implements MaskingStrategy {

    public GridMasking {
        if (cell < 2) throw new IllegalArgumentException("grid masking needs a cell of at least 2x2 patches, got " + cell);
    }

    /** The only mask ratio this strategy produces: 1 - 1 / cell². */
    public double maskRatio() { return 1.0 - 1.0 / ((double) cell * cell); }

    /** Null when the grid and ratio fit this strategy, else the reason. */
    public String problem(int gridH, int gridW, double maskRatio) {
        if (gridH % cell != 0 || gridW % cell != 0) {
            return "grid masking with " + cell + "x" + cell + " cells needs a patch grid divisible by " + cell
                    + ", got " + gridH + "x" + gridW;
        }
        if (Math.abs(maskRatio - maskRatio()) > 1e-6) {
            return "grid masking with " + cell + "x" + cell + " cells masks exactly " + maskRatio()
                    + " of the patches; set the mask ratio to that value (got " + maskRatio + ")";
        }
        return null;
    }

    @Override
    public MaskPlan planFromNoise(float[] noise, int batch, int gridH, int gridW, double maskRatio) {
        MaskingStrategy.checkNoise(noise, batch, gridH, gridW);
        String problem = problem(gridH, gridW, maskRatio);
        if (problem != null) throw new IllegalArgumentException(problem);
        int patches = gridH * gridW;
        boolean[] masked = new boolean[batch * patches];
        for (int b = 0; b < batch; b++) {
            RandomGenerator rng = randomOffset ? MaskingStrategy.imageRandom(noise, b, patches) : null;
            int dy = randomOffset ? rng.nextInt(cell) : 0;
            int dx = randomOffset ? rng.nextInt(cell) : 0;
            for (int i = 0; i < gridH; i++) {
                for (int j = 0; j < gridW; j++) masked[b * patches + i * gridW + j] = i % cell != dy || j % cell != dx;
            }
        }
        return MaskPlan.fromMasked(masked, batch, patches);
    }

    @Override
    public String spec() {
        return "grid:cell=" + cell + (randomOffset ? ",offset=random" : "");
    }
}
