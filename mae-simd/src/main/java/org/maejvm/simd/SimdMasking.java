package org.maejvm.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Token-row gather / scatter-add (MAE's masking and unshuffle) and patchify: data movement, by ranges. */
final class SimdMasking {
    private SimdMasking() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();

    /**
     * Rejects any index outside [0, rows) before a single row moves, so a bad index leaves dst untouched.
     * index is [batch, kept] row-major.
     */
    static void checkIndices(String op, int[] index, int batch, int kept, int rows) {
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < kept; j++) {
                int value = index[b * kept + j];
                if (value < 0 || value >= rows) {
                    throw new IllegalArgumentException(op + ": index[" + b + ", " + j + "] = " + value
                            + " is outside [0, " + rows + ")");
                }
            }
        }
    }

    /** dst row (b * kept + j) = src row (b * srcRows + index[b, j]) for flat rows [rowFrom, rowTo) of dst. */
    static void gather(float[] src, int[] index, float[] dst, int kept, int srcRows, int width, int rowFrom, int rowTo) {
        for (int r = rowFrom; r < rowTo; r++) {
            int b = r / kept;
            System.arraycopy(src, (b * srcRows + index[r]) * width, dst, r * width, width);
        }
    }

    /**
     * dst row (b * dstRows + index[b, j]) += src row (b * kept + j), for batches [batchFrom, batchTo). Within a
     * batch the rows are added in j order, so repeated indices accumulate exactly as the scalar loop does.
     */
    static void scatterAdd(float[] src, int[] index, float[] dst, int kept, int dstRows, int width,
                           int batchFrom, int batchTo) {
        int upper = S.loopBound(width);
        for (int b = batchFrom; b < batchTo; b++) {
            for (int j = 0; j < kept; j++) {
                int so = (b * kept + j) * width, d0 = (b * dstRows + index[b * kept + j]) * width;
                int c = 0;
                for (; c < upper; c += L) {
                    FloatVector.fromArray(S, dst, d0 + c).add(FloatVector.fromArray(S, src, so + c)).intoArray(dst, d0 + c);
                }
                for (; c < width; c++) dst[d0 + c] += src[so + c];
            }
        }
    }

    /**
     * imgs [B, C, H, W] to patches [B, L, p*p*C] for patch-grid rows [gridRowFrom, gridRowTo), a grid row being
     * one (b, ph) pair. Channels-first features (c, i, j) are runs of p pixels of one image row, copied whole;
     * channels-last (i, j, c) interleaves channels, one element at a time.
     */
    static void patchify(float[] in, float[] out, int c, int h, int w, int p, boolean channelsLast,
                         int gridRowFrom, int gridRowTo) {
        int gh = h / p, gw = w / p, feat = p * p * c;
        for (int gr = gridRowFrom; gr < gridRowTo; gr++) {
            int b = gr / gh, ph = gr % gh;
            for (int pw = 0; pw < gw; pw++) {
                int row = (gr * gw + pw) * feat;
                for (int ch = 0; ch < c; ch++) {
                    for (int i = 0; i < p; i++) {
                        int src = ((b * c + ch) * h + ph * p + i) * w + pw * p;
                        if (channelsLast) {
                            for (int j = 0; j < p; j++) out[row + (i * p + j) * c + ch] = in[src + j];
                        } else {
                            System.arraycopy(in, src, out, row + (ch * p + i) * p, p);
                        }
                    }
                }
            }
        }
    }
}
