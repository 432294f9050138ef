package org.maejvm.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Reductions with KernelContext and local memory (TornadoVM's {@code @Reduce} gave wrong sums on PoCL for
 * larger inputs, so it is not used).
 *
 * <p>Whole-array sums take two tasks: {@link #partialSums}, PARTS groups of GROUP work-items each summing a
 * grid-stride slice and reducing it in local memory to one partial per group, then {@link #finalSum}, one group
 * adding the PARTS partials into {@code out[outIndex]}. Column sums ({@link #columnSums}) use one group per
 * column, its work-items splitting the rows.
 */
public final class ReductionKernels {
    private ReductionKernels() {}

    public static final int GROUP = 256;
    public static final int PARTS = 64;

    /** partials[g] = sum over the group's slice of x (squared when squares == 1). Grid: PARTS * GROUP. */
    public static void partialSums(KernelContext ctx, FloatArray x, FloatArray partials, int n, int squares) {
        int t = ctx.localIdx;
        float[] buf = ctx.allocateFloatLocalArray(GROUP);
        float s = 0f;
        for (int i = ctx.globalIdx; i < n; i += PARTS * GROUP) {
            float v = x.get(i);
            s += squares == 1 ? v * v : v;
        }
        buf[t] = s;
        ctx.localBarrier();
        for (int half = GROUP / 2; half > 0; half >>= 1) {
            if (t < half) {
                buf[t] += buf[t + half];
            }
            ctx.localBarrier();
        }
        if (t == 0) {
            partials.set(ctx.groupIdx, buf[0]);
        }
    }

    /** out[outIndex] = sum of the PARTS partials. Grid: one group of GROUP. */
    public static void finalSum(KernelContext ctx, FloatArray partials, FloatArray out, int outIndex) {
        int t = ctx.localIdx;
        float[] buf = ctx.allocateFloatLocalArray(GROUP);
        buf[t] = t < PARTS ? partials.get(t) : 0f;
        ctx.localBarrier();
        for (int half = GROUP / 2; half > 0; half >>= 1) {
            if (t < half) {
                buf[t] += buf[t + half];
            }
            ctx.localBarrier();
        }
        if (t == 0) {
            out.set(outIndex, buf[0]);
        }
    }

    /** acc[j] += sum over rows of dy[r * n + j]: the bias gradient. Grid: n groups of COLUMN_GROUP. */
    public static void columnSums(KernelContext ctx, FloatArray dy, FloatArray acc, int rows, int n) {
        int t = ctx.localIdx;
        int j = ctx.groupIdx;
        float[] buf = ctx.allocateFloatLocalArray(COLUMN_GROUP);
        float s = 0f;
        for (int r = t; r < rows; r += COLUMN_GROUP) {
            s += dy.get(r * n + j);
        }
        buf[t] = s;
        ctx.localBarrier();
        for (int half = COLUMN_GROUP / 2; half > 0; half >>= 1) {
            if (t < half) {
                buf[t] += buf[t + half];
            }
            ctx.localBarrier();
        }
        if (t == 0) {
            acc.set(j, acc.get(j) + buf[0]);
        }
    }

    public static final int COLUMN_GROUP = 64;

    /** acc[j] += sum over rows of a[r * n + j] * b[r * n + j]: layer scale's dgamma. Grid as columnSums. */
    public static void columnProductSums(KernelContext ctx, FloatArray a, FloatArray b, FloatArray acc, int rows, int n) {
        int t = ctx.localIdx;
        int j = ctx.groupIdx;
        float[] buf = ctx.allocateFloatLocalArray(COLUMN_GROUP);
        float s = 0f;
        for (int r = t; r < rows; r += COLUMN_GROUP) {
            s += a.get(r * n + j) * b.get(r * n + j);
        }
        buf[t] = s;
        ctx.localBarrier();
        for (int half = COLUMN_GROUP / 2; half > 0; half >>= 1) {
            if (t < half) {
                buf[t] += buf[t + half];
            }
            ctx.localBarrier();
        }
        if (t == 0) {
            acc.set(j, acc.get(j) + buf[0]);
        }
    }

    /** LayerNorm's parameter gradients: dgamma[j] += sum_r dy * xhat, dbeta[j] += sum_r dy. Grid as columnSums. */
    public static void layerNormParamGrads(KernelContext ctx, FloatArray dout, FloatArray x, FloatArray mean, FloatArray rstd,
                                           FloatArray dgamma, FloatArray dbeta, int rows, int n) {
        int t = ctx.localIdx;
        int j = ctx.groupIdx;
        float[] bufG = ctx.allocateFloatLocalArray(COLUMN_GROUP);
        float[] bufB = ctx.allocateFloatLocalArray(COLUMN_GROUP);
        float g = 0f;
        float b = 0f;
        for (int r = t; r < rows; r += COLUMN_GROUP) {
            float dy = dout.get(r * n + j);
            g += dy * (x.get(r * n + j) - mean.get(r)) * rstd.get(r);
            b += dy;
        }
        bufG[t] = g;
        bufB[t] = b;
        ctx.localBarrier();
        for (int half = COLUMN_GROUP / 2; half > 0; half >>= 1) {
            if (t < half) {
                bufG[t] += bufG[t + half];
                bufB[t] += bufB[t + half];
            }
            ctx.localBarrier();
        }
        if (t == 0) {
            dgamma.set(j, dgamma.get(j) + bufG[0]);
            dbeta.set(j, dbeta.get(j) + bufB[0]);
        }
    }
}
