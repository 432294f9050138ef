package org.maejvm.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Tiled GEMM: C = alpha * op(A) op(B) + beta * C, batched at fixed strides, row-major, any transpose.
 *
 * <p>One work-group of TILE x TILE work-items computes one TILE x TILE block of C; the k dimension is walked a
 * TILE at a time, each step staging one tile of op(A) and one of op(B) in local memory (zero-padded at the
 * edges, so no size needs to be a multiple of TILE). Grid: x = n rounded up to TILE, y = (m rounded up to TILE)
 * times batch; the batch index is the y group divided by the number of row tiles.
 */
public final class GemmKernels {
    private GemmKernels() {}

    public static final int TILE = 16;

    // layout of the int parameter buffer
    public static final int M = 0, N = 1, K = 2, TRANS_A = 3, TRANS_B = 4, OFF_A = 5, LDA = 6, STRIDE_A = 7,
            OFF_B = 8, LDB = 9, STRIDE_B = 10, OFF_C = 11, LDC = 12, STRIDE_C = 13, ROW_TILES = 14, PARAMS = 15;

    public static void gemm(KernelContext ctx, FloatArray a, FloatArray b, FloatArray c, IntArray p, float alpha, float beta) {
        int tx = ctx.localIdx;
        int ty = ctx.localIdy;
        int m = p.get(M);
        int n = p.get(N);
        int k = p.get(K);
        int transA = p.get(TRANS_A);
        int transB = p.get(TRANS_B);
        int lda = p.get(LDA);
        int ldb = p.get(LDB);
        int rowTiles = p.get(ROW_TILES);
        int batch = ctx.groupIdy / rowTiles;
        int row = (ctx.groupIdy - batch * rowTiles) * TILE + ty;
        int col = ctx.groupIdx * TILE + tx;
        int oa = p.get(OFF_A) + batch * p.get(STRIDE_A);
        int ob = p.get(OFF_B) + batch * p.get(STRIDE_B);

        float[] as = ctx.allocateFloatLocalArray(TILE * TILE);
        float[] bs = ctx.allocateFloatLocalArray(TILE * TILE);
        float acc = 0f;
        for (int t0 = 0; t0 < k; t0 += TILE) {
            // work-item (ty, tx) stages op(A)[row, t0 + tx] and op(B)[t0 + ty, col]
            int ka = t0 + tx;
            float av = 0f;
            if (row < m && ka < k) {
                av = transA == 1 ? a.get(oa + ka * lda + row) : a.get(oa + row * lda + ka);
            }
            as[ty * TILE + tx] = av;
            int kb = t0 + ty;
            float bv = 0f;
            if (kb < k && col < n) {
                bv = transB == 1 ? b.get(ob + col * ldb + kb) : b.get(ob + kb * ldb + col);
            }
            bs[ty * TILE + tx] = bv;
            ctx.localBarrier();
            for (int l = 0; l < TILE; l++) {
                acc += as[ty * TILE + l] * bs[l * TILE + tx];
            }
            ctx.localBarrier();
        }
        if (row < m && col < n) {
            int ci = p.get(OFF_C) + batch * p.get(STRIDE_C) + row * p.get(LDC) + col;
            // beta == 0: C is not read, so NaNs there do not propagate (BLAS semantics)
            if (beta == 0f) {
                c.set(ci, alpha * acc);
            } else {
                c.set(ci, alpha * acc + beta * c.get(ci));
            }
        }
    }
}
