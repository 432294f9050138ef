package org.maejvm.model.masking;

import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import org.maejvm.model.MaskPlan;

/**
 * Block-wise masking of BEiT's {@code MaskingGenerator}, as CAE pretrains with: rectangles of random area in
 * [minPatches, remaining] and log-uniform aspect ratio in (minAspect, 1 / minAspect) are placed at random until the
 * masked count reaches {@code int(L * ratio)}; each rectangle gets up to 10 attempts to cover at least one new
 * patch without overshooting. When the blocks stall short of the count (BEiT would stop there), or to make every
 * image mask the same number, the rest is masked uniformly at random among the visible patches, as CAE's generator
 * does to keep a fixed count. In a plan each image draws from a generator seeded by its noise row.
 *
 * @param minPatches smallest block area; 0 picks 16 at 14x14 (BEiT's value), scaled with the grid's area, at least 4
 * @param maxPatches largest block area; 0 = no limit beyond the remaining count
 * @param minAspect  aspect ratios are drawn in (minAspect, 1 / minAspect); BEiT uses 0.3
 */
public record BlockMasking(int minPatches, int maxPatches, double minAspect) implements MaskingStrategy {
    private static final int ATTEMPTS = 10;

    public BlockMasking {
        if (minPatches < 0) throw new IllegalArgumentException("block masking: min patches must be >= 0 (0 = auto), got " + minPatches);
        if (maxPatches < 0) throw new IllegalArgumentException("block masking: max patches must be >= 0 (0 = no limit), got " + maxPatches);
        if (maxPatches > 0 && minPatches > maxPatches) {
            throw new IllegalArgumentException("block masking: min patches " + minPatches + " exceeds max patches " + maxPatches);
        }
        if (!(minAspect > 0 && minAspect <= 1)) {
            throw new IllegalArgumentException("block masking: min aspect must be in (0, 1], got " + minAspect);
        }
    }

    /** BEiT's defaults with the minimum block scaled to the grid. */
    public BlockMasking() { this(0, 0, 0.3); }

    /** One placed block: rows [top, top + h), columns [left, left + w). */
    public record Block(int top, int left, int h, int w) {}

    /** One image's mask (row-major, true = removed), the blocks placed, and how many patches the top-up added. */
    public record Sample(boolean[] masked, List<Block> blocks, int toppedUp) {}

    /** The minimum block area used for a grid: {@link #minPatches} or 16 * L / 196 rounded, at least 4. */
    public int minPatchesFor(int gridH, int gridW) {
        return minPatches > 0 ? minPatches : Math.max(4, (int) Math.round(16.0 * gridH * gridW / 196.0));
    }

    @Override
    public MaskPlan planFromNoise(float[] noise, int batch, int gridH, int gridW, double maskRatio) {
        MaskingStrategy.checkNoise(noise, batch, gridH, gridW);
        int patches = gridH * gridW;
        int count = patches - MaskingStrategy.keepCount(patches, maskRatio);
        boolean[] masked = new boolean[batch * patches];
        for (int b = 0; b < batch; b++) {
            RandomGenerator rng = MaskingStrategy.imageRandom(noise, b, patches);
            System.arraycopy(sample(gridH, gridW, count, rng).masked(), 0, masked, b * patches, patches);
        }
        return MaskPlan.fromMasked(masked, batch, patches);
    }

    /** Masks exactly {@code count} patches of one image. */
    public Sample sample(int gridH, int gridW, int count, RandomGenerator rng) {
        int patches = gridH * gridW;
        if (count < 0 || count > patches) {
            throw new IllegalArgumentException("block masking: cannot mask " + count + " of " + patches + " patches");
        }
        boolean[] mask = new boolean[patches];
        List<Block> blocks = new ArrayList<>();
        int min = minPatchesFor(gridH, gridW);
        double logLo = Math.log(minAspect), logHi = Math.log(1 / minAspect);
        int done = 0;
        while (done < count) {
            int room = count - done;
            if (maxPatches > 0) room = Math.min(room, maxPatches);
            int delta = placeBlock(mask, gridH, gridW, min, room, logLo, logHi, rng, blocks);
            if (delta == 0) break;
            done += delta;
        }
        int toppedUp = count - done;
        if (toppedUp > 0) maskAtRandom(mask, toppedUp, rng);
        return new Sample(mask, List.copyOf(blocks), toppedUp);
    }

    /** BEiT's {@code _mask}: up to 10 tries for a block adding between 1 and {@code room} new patches. */
    private static int placeBlock(boolean[] mask, int gridH, int gridW, int min, int room, double logLo, double logHi,
                                  RandomGenerator rng, List<Block> blocks) {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            double area = min + (room - min) * rng.nextDouble(); // Python's uniform(a, b), also when a > b
            double aspect = Math.exp(logLo + (logHi - logLo) * rng.nextDouble());
            int h = (int) Math.round(Math.sqrt(area * aspect));
            int w = (int) Math.round(Math.sqrt(area / aspect));
            if (h < 1 || w < 1 || w >= gridW || h >= gridH) continue; // BEiT demands strictly smaller than the grid
            int top = rng.nextInt(gridH - h + 1);
            int left = rng.nextInt(gridW - w + 1);
            int already = 0;
            for (int i = top; i < top + h; i++) for (int j = left; j < left + w; j++) if (mask[i * gridW + j]) already++;
            int added = h * w - already;
            if (added > 0 && added <= room) {
                for (int i = top; i < top + h; i++) for (int j = left; j < left + w; j++) mask[i * gridW + j] = true;
                blocks.add(new Block(top, left, h, w));
                return added;
            }
        }
        return 0;
    }

    /** Masks {@code n} more patches chosen uniformly among the visible ones. */
    static void maskAtRandom(boolean[] mask, int n, RandomGenerator rng) {
        int[] visible = new int[mask.length];
        int v = 0;
        for (int i = 0; i < mask.length; i++) if (!mask[i]) visible[v++] = i;
        for (int k = 0; k < n; k++) { // partial Fisher-Yates
            int j = k + rng.nextInt(v - k);
            int t = visible[k]; visible[k] = visible[j]; visible[j] = t;
            mask[visible[k]] = true;
        }
    }

    @Override
    public String spec() {
        StringBuilder s = new StringBuilder("block");
        List<String> opts = new ArrayList<>();
        if (minPatches > 0) opts.add("min=" + minPatches);
        if (maxPatches > 0) opts.add("max=" + maxPatches);
        if (minAspect != 0.3) opts.add("aspect=" + minAspect);
        if (!opts.isEmpty()) s.append(':').append(String.join(",", opts));
        return s.toString();
    }
}
