package org.maejvm.model;

/**
 * MAE's fixed 2-D sin-cos position embedding (util/pos_embed.py, get_2d_sincos_pos_embed with cls_token=True).
 * Token (i, j) of a g x g grid, at index 1 + i*g + j, gets [emb(j), emb(i)] where emb(p) of width D/2 is
 * [sin(p * w_k), cos(p * w_k)] for k < D/4, w_k = 10000^(-k / (D/4)). Row 0 (the cls token) is zero. Computed in
 * double and rounded to float, as the official numpy code.
 */
public final class SinCosPositionEmbedding {
    private SinCosPositionEmbedding() {}

    public static float[] withClsRow(int dim, int gridSize) {
        if (dim % 4 != 0) throw new IllegalArgumentException("sin-cos position embedding needs a width divisible by 4, got " + dim);
        int quarter = dim / 4, tokens = gridSize * gridSize;
        float[] out = new float[(1 + tokens) * dim];
        for (int i = 0; i < gridSize; i++) {
            for (int j = 0; j < gridSize; j++) {
                int base = (1 + i * gridSize + j) * dim;
                fill1d(out, base, quarter, j);
                fill1d(out, base + dim / 2, quarter, i);
            }
        }
        return out;
    }

    private static void fill1d(float[] out, int base, int quarter, double pos) {
        for (int k = 0; k < quarter; k++) {
            double omega = 1.0 / Math.pow(10000.0, k / (double) quarter);
            out[base + k] = (float) Math.sin(pos * omega);
            out[base + quarter + k] = (float) Math.cos(pos * omega);
        }
    }
}
