package org.maejvm.bench.train;

import org.maejvm.model.MaeConfig;

/**
 * Floating-point operations of one MAE pretraining step, counted as multiply-adds × 2 over the matrix products
 * (the rest — layerNorm, GELU, softmax, AdamW — is a few percent and memory-bound). The backward pass costs twice
 * the forward for every product (input and weight gradients), except the patch embedding, whose input needs no
 * gradient. Attention counts QKᵀ and P·V; its backward recomputes nothing here (a flash-style backward that does
 * recompute the scores does more work than counted, so the utilisation reported is conservative).
 */
public record StepFlops(double forward, double backward) {

    public double train() { return forward + backward; }

    /** Counts one step of {@code batch} images of {@code config} at {@code maskRatio} (kept = L·(1−ratio), truncated). */
    public static StepFlops of(MaeConfig config, int batch, double maskRatio) {
        int l = config.numPatches();
        int kept = (int) (l * (1 - maskRatio));
        int d = config.embedDim(), dd = config.decoderEmbedDim();
        double patchEmbed = 2.0 * batch * l * config.patchDim() * d;
        double encoder = config.depth() * block(batch, 1 + kept, d, config.mlpRatio());
        double decoderEmbed = 2.0 * batch * (1 + kept) * d * dd;
        double decoder = config.decoderDepth() * block(batch, 1 + l, dd, config.mlpRatio());
        double pred = 2.0 * batch * (1 + l) * dd * config.patchDim();
        double rest = encoder + decoderEmbed + decoder + pred;
        return new StepFlops(patchEmbed + rest, patchEmbed + 2 * rest);
    }

    /** One pre-norm transformer block on {@code tokens} tokens of width {@code d}: qkv, attention, proj, MLP. */
    static double block(int batch, int tokens, int d, double mlpRatio) {
        double rows = (double) batch * tokens;
        int hidden = (int) (d * mlpRatio);
        double linear = 2 * rows * d * (3.0 * d + d + 2.0 * hidden);
        double attention = 2 * 2.0 * batch * tokens * (double) tokens * d;
        return linear + attention;
    }
}
