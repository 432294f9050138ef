package org.maejvm.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Kernels with one work-group of GROUP work-items per row: LayerNorm forward and backward (dx), softmax,
 * softmax cross-entropy and the per-patch part of MAE's masked MSE. Every row statistic is a tree reduction in
 * local memory (GROUP is a power of two); work-item t handles columns t, t + GROUP, ...
 *
 * <p>Each reduction is written out where it is used rather than in a helper: TornadoVM 5.2 inlines a helper
 * that takes the local array, but then addresses it as a Java heap array (byte offsets past a 16-byte header:
 * {@code adf[(t << 2) + 16]}) while the kernel body indexes it by element, so the sums are garbage (checked on
 * PoCL: a softmax through such a helper was off by 2e3, written out inline by 6e-8). After a reduction every
 * work-item reads slot 0 and a barrier follows before the buffer is reused.
 */
public final class RowKernels {
    private RowKernels() {}

    public static final int GROUP = 64;

    /** out = (x - mean) * rstd * gamma + beta per row of n; saves mean and rstd (biased variance, two passes). */
    public static void layerNormForward(KernelContext ctx, FloatArray x, FloatArray gamma, FloatArray beta, FloatArray out,
                                        FloatArray mean, FloatArray rstd, int n, float eps) {
        int t = ctx.localIdx;
        int r = ctx.groupIdx;
        int base = r * n;
        float[] buf = ctx.allocateFloatLocalArray(GROUP);

        float s = 0f;
        for (int j = t; j < n; j += GROUP) {
            s += x.get(base + j);
        }
        buf[t] = s;
        ctx.localBarrier();
        for (int half = GROUP / 2; half > 0; half >>= 1) {
            if (t < half) {
                buf[t] += buf[t + half];
            }
            ctx.localBarrier();
        }
        float mu = buf[0] / n;
        ctx.localBarrier();

        float v = 0f;
        for (int j = t; j < n; j += GROUP) {
            float d = x.get(base + j) - mu;
            v += d * d;
        }
        buf[t] = v;
        ctx.localBarrier();
        for (int half = GROUP / 2; half > 0; half >>= 1) {
            if (t < half) {
                buf[t] += buf[t + half];
            }
            ctx.localBarrier();
        }
        float rs = 1f / TornadoMath.sqrt(buf[0] / n + eps);

        for (int j = t; j < n; j += GROUP) {
            out.set(base + j, (x.get(base + j) - mu) * rs * gamma.get(j) + beta.get(j));
        }
        if (t == 0) {
            mean.set(r, mu);
            rstd.set(r, rs);
        }
    }

    /** dx = rstd * (dy*g - mean(dy*g) - xhat * mean(dy*g*xhat)) per row; dgamma, dbeta come from ColumnKernels. */
    public static void layerNormBackward(KernelContext ctx, FloatArray dout, FloatArray x, FloatArray gamma, FloatArray mean,
                                         FloatArray rstd, FloatArray dx, int n) {
        int t = ctx.localIdx;
        int r = ctx.groupIdx;
        int base = r * n;
        float[] sums = ctx.allocateFloatLocalArray(GROUP);
        float[] sumsX = ctx.allocateFloatLocalArray(GROUP);
        float mu = mean.get(r);
        float rs = rstd.get(r);

        float a = 0f;
        float ax = 0f;
        for (int j = t; j < n; j += GROUP) {
            float dyg = dout.get(base + j) * gamma.get(j);
            a += dyg;
            ax += dyg * (x.get(base + j) - mu) * rs;
        }
        sums[t] = a;
        sumsX[t] = ax;
        ctx.localBarrier();
        for (int half = GROUP / 2; half > 0; half >>= 1) {
            if (t < half) {
                sums[t] += sums[t + half];
                sumsX[t] += sumsX[t + half];
            }
            ctx.localBarrier();
        }
        float meanDyg = sums[0] / n;
        float meanDygXhat = sumsX[0] / n;
        for (int j = t; j < n; j += GROUP) {
            float xhat = (x.get(base + j) - mu) * rs;
            dx.set(base + j, rs * (dout.get(base + j) * gamma.get(j) - meanDyg - xhat * meanDygXhat));
        }
    }

    /** Row-wise softmax; out may be x (each row is read fully before it is written). */
    public static void softmax(KernelContext ctx, FloatArray x, FloatArray out, int n) {
        int t = ctx.localIdx;
        int base = ctx.groupIdx * n;
        float[] buf = ctx.allocateFloatLocalArray(GROUP);

        float m = Float.NEGATIVE_INFINITY;
        for (int j = t; j < n; j += GROUP) {
            m = TornadoMath.max(m, x.get(base + j));
        }
        buf[t] = m;
        ctx.localBarrier();
        for (int half = GROUP / 2; half > 0; half >>= 1) {
            if (t < half) {
                buf[t] = TornadoMath.max(buf[t], buf[t + half]);
            }
            ctx.localBarrier();
        }
        float max = buf[0];
        ctx.localBarrier();

        float s = 0f;
        for (int j = t; j < n; j += GROUP) {
            s += TornadoMath.exp(x.get(base + j) - max);
        }
        buf[t] = s;
        ctx.localBarrier();
        for (int half = GROUP / 2; half > 0; half >>= 1) {
            if (t < half) {
                buf[t] += buf[t + half];
            }
            ctx.localBarrier();
        }
        float inv = 1f / buf[0];
        for (int j = t; j < n; j += GROUP) {
            out.set(base + j, TornadoMath.exp(x.get(base + j) - max) * inv);
        }
    }

    /**
     * Per row: rowLoss[r] = -sum_c y (z - logZ); with hasGrad == 1 also dz = (softmax - y) / rows (the gradient
     * of the mean over rows, whose sum ReductionKernels forms).
     */
    public static void crossEntropy(KernelContext ctx, FloatArray z, FloatArray y, FloatArray dz, FloatArray rowLoss,
                                    int n, int rows, int hasGrad) {
        int t = ctx.localIdx;
        int r = ctx.groupIdx;
        int base = r * n;
        float[] buf = ctx.allocateFloatLocalArray(GROUP);

        float m = Float.NEGATIVE_INFINITY;
        for (int j = t; j < n; j += GROUP) {
            m = TornadoMath.max(m, z.get(base + j));
        }
        buf[t] = m;
        ctx.localBarrier();
        for (int half = GROUP / 2; half > 0; half >>= 1) {
            if (t < half) {
                buf[t] = TornadoMath.max(buf[t], buf[t + half]);
            }
            ctx.localBarrier();
        }
        float max = buf[0];
        ctx.localBarrier();

        float s = 0f;
        for (int j = t; j < n; j += GROUP) {
            s += TornadoMath.exp(z.get(base + j) - max);
        }
        buf[t] = s;
        ctx.localBarrier();
        for (int half = GROUP / 2; half > 0; half >>= 1) {
            if (t < half) {
                buf[t] += buf[t + half];
            }
            ctx.localBarrier();
        }
        float logZ = max + TornadoMath.log(buf[0]);
        ctx.localBarrier();

        float loss = 0f;
        for (int j = t; j < n; j += GROUP) {
            float zj = z.get(base + j);
            float yj = y.get(base + j);
            loss -= yj * (zj - logZ);
            if (hasGrad == 1) {
                dz.set(base + j, (TornadoMath.exp(zj - logZ) - yj) / rows);
            }
        }
        buf[t] = loss;
        ctx.localBarrier();
        for (int half = GROUP / 2; half > 0; half >>= 1) {
            if (t < half) {
                buf[t] += buf[t + half];
            }
            ctx.localBarrier();
        }
        if (t == 0) {
            rowLoss.set(r, buf[0]);
        }
    }

    /**
     * MAE's forward_loss per patch: rowLoss[r] = mask[r] * mean_j (pred - target')^2 over the patch's n values,
     * where with normPix == 1 target' = (t - mean) / sqrt(var + 1e-6), var unbiased.
     */
    public static void maskedMseRows(KernelContext ctx, FloatArray pred, FloatArray target, FloatArray mask, FloatArray rowLoss,
                                     int n, int normPix) {
        int t = ctx.localIdx;
        int r = ctx.groupIdx;
        int base = r * n;
        float[] buf = ctx.allocateFloatLocalArray(GROUP);

        float mu = 0f;
        float inv = 1f;
        if (normPix == 1) {
            float s = 0f;
            for (int j = t; j < n; j += GROUP) {
                s += target.get(base + j);
            }
            buf[t] = s;
            ctx.localBarrier();
            for (int half = GROUP / 2; half > 0; half >>= 1) {
                if (t < half) {
                    buf[t] += buf[t + half];
                }
                ctx.localBarrier();
            }
            mu = buf[0] / n;
            ctx.localBarrier();
            float v = 0f;
            for (int j = t; j < n; j += GROUP) {
                float d = target.get(base + j) - mu;
                v += d * d;
            }
            buf[t] = v;
            ctx.localBarrier();
            for (int half = GROUP / 2; half > 0; half >>= 1) {
                if (t < half) {
                    buf[t] += buf[t + half];
                }
                ctx.localBarrier();
            }
            inv = 1f / TornadoMath.sqrt(buf[0] / (n - 1) + 1e-6f);
            ctx.localBarrier();
        }
        float se = 0f;
        for (int j = t; j < n; j += GROUP) {
            float d = pred.get(base + j) - (target.get(base + j) - mu) * inv;
            se += d * d;
        }
        buf[t] = se;
        ctx.localBarrier();
        for (int half = GROUP / 2; half > 0; half >>= 1) {
            if (t < half) {
                buf[t] += buf[t + half];
            }
            ctx.localBarrier();
        }
        if (t == 0) {
            rowLoss.set(r, buf[0] / n * mask.get(r));
        }
    }

    /**
     * dpred = dLoss * 2 * mask[r] / (n * den) * (pred - target') per patch, den = sum(mask) = sums[denIndex]
     * (computed on the device by ReductionKernels in the same task graph).
     */
    public static void maskedMseBackwardRows(KernelContext ctx, FloatArray pred, FloatArray target, FloatArray mask,
                                             FloatArray sums, FloatArray dpred, int n, int normPix, float dLoss) {
        int t = ctx.localIdx;
        int r = ctx.groupIdx;
        int base = r * n;
        float[] buf = ctx.allocateFloatLocalArray(GROUP);

        float mu = 0f;
        float inv = 1f;
        if (normPix == 1) {
            float s = 0f;
            for (int j = t; j < n; j += GROUP) {
                s += target.get(base + j);
            }
            buf[t] = s;
            ctx.localBarrier();
            for (int half = GROUP / 2; half > 0; half >>= 1) {
                if (t < half) {
                    buf[t] += buf[t + half];
                }
                ctx.localBarrier();
            }
            mu = buf[0] / n;
            ctx.localBarrier();
            float v = 0f;
            for (int j = t; j < n; j += GROUP) {
                float d = target.get(base + j) - mu;
                v += d * d;
            }
            buf[t] = v;
            ctx.localBarrier();
            for (int half = GROUP / 2; half > 0; half >>= 1) {
                if (t < half) {
                    buf[t] += buf[t + half];
                }
                ctx.localBarrier();
            }
            inv = 1f / TornadoMath.sqrt(buf[0] / (n - 1) + 1e-6f);
        }
        float coef = dLoss * 2f * mask.get(r) / (n * sums.get(0));
        for (int j = t; j < n; j += GROUP) {
            dpred.set(base + j, coef * (pred.get(base + j) - (target.get(base + j) - mu) * inv));
        }
    }
}
