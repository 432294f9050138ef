package org.maejvm.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** MAE's masked MSE (with the norm_pix target) and soft-target cross-entropy, by ranges of rows. */
final class SimdLosses {
    private SimdLosses() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();

    /** torch's default in MAE's norm_pix_loss: (t - mean) / sqrt(var + 1e-6). */
    static final float NORM_PIX_EPS = 1e-6f;

    /**
     * The norm_pix target of one patch as t' = (t - shift) * mul; returns {shift, mul}, which are {0, 1} without
     * normPix. The variance is unbiased (divides by n - 1), as torch's {@code Tensor.var}.
     */
    static float[] targetTransform(float[] t, int off, int n, boolean normPix, float[] into) {
        if (!normPix) {
            into[0] = 0f;
            into[1] = 1f;
            return into;
        }
        float mean = (float) (SimdElementwise.sum(t, off, off + n) / n);
        double sq = 0;
        FloatVector acc = FloatVector.zero(S);
        int j = 0;
        for (int upper = S.loopBound(n); j < upper; j += L) {
            FloatVector d = FloatVector.fromArray(S, t, off + j).sub(mean);
            acc = d.fma(d, acc);
        }
        sq += SimdMath.sumLanes(acc);
        for (; j < n; j++) {
            double d = t[off + j] - mean;
            sq += d * d;
        }
        into[0] = mean;
        into[1] = (float) (1.0 / Math.sqrt(sq / (n - 1) + NORM_PIX_EPS));
        return into;
    }

    /** Returns {sum over rows of mask[r] * mean_j (pred - t')^2, sum of mask[r]} for rows [rowFrom, rowTo). */
    static double[] maskedMseParts(float[] pred, float[] target, float[] mask, int pd, boolean normPix,
                                   int rowFrom, int rowTo) {
        float[] tf = new float[2];
        double num = 0, den = 0;
        for (int r = rowFrom; r < rowTo; r++) {
            int base = r * pd;
            targetTransform(target, base, pd, normPix, tf);
            float shift = tf[0], mul = tf[1];
            FloatVector acc = FloatVector.zero(S);
            int j = 0;
            for (int upper = S.loopBound(pd); j < upper; j += L) {
                FloatVector d = FloatVector.fromArray(S, pred, base + j)
                        .sub(FloatVector.fromArray(S, target, base + j).sub(shift).mul(mul));
                acc = d.fma(d, acc);
            }
            float se = SimdMath.sumLanes(acc);
            for (; j < pd; j++) {
                float d = pred[base + j] - (target[base + j] - shift) * mul;
                se = Math.fma(d, d, se);
            }
            num += (double) se / pd * mask[r];
            den += mask[r];
        }
        return new double[] {num, den};
    }

    /** dpred = coefficient(row) * (pred - t') for rows [rowFrom, rowTo), coefficient = 2 dLoss mask[r] / (pd maskSum). */
    static void maskedMseBackward(float[] pred, float[] target, float[] mask, int pd, boolean normPix,
                                  float dLoss, double maskSum, float[] dpred, int rowFrom, int rowTo) {
        float[] tf = new float[2];
        for (int r = rowFrom; r < rowTo; r++) {
            int base = r * pd;
            targetTransform(target, base, pd, normPix, tf);
            float shift = tf[0], mul = tf[1];
            float coef = (float) (dLoss * 2.0 * mask[r] / (pd * maskSum));
            int j = 0;
            for (int upper = S.loopBound(pd); j < upper; j += L) {
                FloatVector.fromArray(S, pred, base + j)
                        .sub(FloatVector.fromArray(S, target, base + j).sub(shift).mul(mul))
                        .mul(coef).intoArray(dpred, base + j);
            }
            for (; j < pd; j++) dpred[base + j] = coef * (pred[base + j] - (target[base + j] - shift) * mul);
        }
    }

    /** Per thread: one row of exp arguments and values for the cross-entropy (see SimdMath.expInPlace). */
    private static final ThreadLocal<float[]> EXP_ROW = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * Sum over rows [rowFrom, rowTo) of -sum_c y[c] * log softmax(z)[c]; when g is non-null also writes
     * g = (softmax(z) - y) / n, n being the total number of rows.
     */
    static double crossEntropyRows(float[] z, float[] y, float[] g, int c, int n, int rowFrom, int rowTo) {
        float[] e = EXP_ROW.get();
        if (e.length < c) {
            e = new float[c];
            EXP_ROW.set(e);
        }
        double loss = 0;
        float invN = 1f / n;
        int upper = S.loopBound(c);
        for (int r = rowFrom; r < rowTo; r++) {
            int base = r * c;
            float max = SimdActivations.max(z, base, c);
            System.arraycopy(z, base, e, 0, c);
            SimdMath.scaleShift(e, 0, c, 1f, max);
            SimdMath.expInPlace(e, 0, c);
            double sumExp = SimdMath.sum(e, 0, upper);
            for (int j = upper; j < c; j++) sumExp += e[j];
            float logZ = max + (float) Math.log(sumExp);
            // row loss = -sum_c y (z - logZ)
            FloatVector accL = FloatVector.zero(S);
            int j = 0;
            for (; j < upper; j += L) {
                FloatVector zv = FloatVector.fromArray(S, z, base + j), yv = FloatVector.fromArray(S, y, base + j);
                accL = yv.fma(zv.sub(logZ), accL);
            }
            double rowLoss = SimdMath.sumLanes(accL);
            for (; j < c; j++) rowLoss += (double) y[base + j] * (z[base + j] - logZ);
            loss -= rowLoss;
            if (g != null) {
                System.arraycopy(z, base, e, 0, c);
                SimdMath.scaleShift(e, 0, c, 1f, logZ);
                SimdMath.expInPlace(e, 0, c);
                j = 0;
                for (; j < upper; j += L) {
                    FloatVector.fromArray(S, e, j).sub(FloatVector.fromArray(S, y, base + j)).mul(invN).intoArray(g, base + j);
                }
                for (; j < c; j++) g[base + j] = (e[j] - y[base + j]) * invN;
            }
        }
        return loss;
    }
}
