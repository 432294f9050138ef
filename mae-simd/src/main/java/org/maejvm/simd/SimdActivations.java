package org.maejvm.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact-erf GELU (forward and backward) and the row softmax.
 *
 * <p>The normal CDF Phi(x) = erfc(-x / sqrt 2) / 2 comes from the Chebyshev-fitted erfc of Numerical Recipes
 * in C, 2nd ed., section 6.2 ("erfcc"): erfc(z) = t exp(-z^2 - 1.26551223 + t P(t)), t = 1 / (1 + z/2), z >= 0,
 * with a fractional error below 1.2e-7 for every z. Because it is the complement that is fitted, both tails
 * keep their relative accuracy: Phi(x) for x < 0 is the fitted value itself and 1 - Phi(x) is never cancelled.
 */
final class SimdActivations {
    private SimdActivations() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();

    private static final float INV_SQRT2 = (float) (1.0 / Math.sqrt(2.0));
    private static final float INV_SQRT_2PI = (float) (1.0 / Math.sqrt(2.0 * Math.PI));

    // Numerical Recipes erfcc coefficients: the exponent is -z^2 + C0 + t (P0 + t (P1 + ... + t P8)).
    private static final float P0 = 1.00002368f, P1 = 0.37409196f, P2 = 0.09678418f, P3 = -0.18628806f,
            P4 = 0.27886807f, P5 = -1.13520398f, P6 = 1.48851587f, P7 = -0.82215223f, P8 = 0.17087277f;
    private static final float ERFC_C0 = -1.26551223f;

    // ------------------------------------------------------------------ normal CDF

    /** Phi(-|x|) = erfc(|x| / sqrt 2) / 2, the lower tail of the normal CDF. */
    static FloatVector lowerTail(FloatVector x) {
        FloatVector z = x.abs().mul(INV_SQRT2);
        FloatVector t = FloatVector.broadcast(S, 1f).div(z.fma(0.5f, 1f));
        // Horner written out: a loop over the coefficient array here kept C2 from keeping p in a register
        FloatVector p = t.fma(FloatVector.broadcast(S, P8), FloatVector.broadcast(S, P7));
        p = p.fma(t, FloatVector.broadcast(S, P6));
        p = p.fma(t, FloatVector.broadcast(S, P5));
        p = p.fma(t, FloatVector.broadcast(S, P4));
        p = p.fma(t, FloatVector.broadcast(S, P3));
        p = p.fma(t, FloatVector.broadcast(S, P2));
        p = p.fma(t, FloatVector.broadcast(S, P1));
        p = p.fma(t, FloatVector.broadcast(S, P0));
        // exponent -z^2 + (t p - 1.26551223), with -z^2 = -x^2 / 2 taken from x itself (exact halving, one
        // rounding in the FMA): rounding z first would cost a relative error of about x^2 * 6e-8 in the tail
        FloatVector arg = x.mul(-0.5f).fma(x, t.fma(p, FloatVector.broadcast(S, ERFC_C0)));
        return t.mul(SimdMath.exp(arg)).mul(0.5f);
    }

    /** The standard normal CDF Phi(x). */
    static FloatVector phi(FloatVector x) {
        FloatVector tail = lowerTail(x);
        VectorMask<Float> negative = x.compare(VectorOperators.LT, 0f);
        return tail.neg().add(1f).blend(tail, negative);
    }

    static float lowerTail(float x) {
        float z = Math.abs(x) * INV_SQRT2;
        float t = 1f / Math.fma(z, 0.5f, 1f);
        float p = Math.fma(t, P8, P7);
        p = Math.fma(p, t, P6);
        p = Math.fma(p, t, P5);
        p = Math.fma(p, t, P4);
        p = Math.fma(p, t, P3);
        p = Math.fma(p, t, P2);
        p = Math.fma(p, t, P1);
        p = Math.fma(p, t, P0);
        float arg = Math.fma(-0.5f * x, x, Math.fma(t, p, ERFC_C0));
        return t * SimdMath.exp(arg) * 0.5f;
    }

    static float phi(float x) {
        float tail = lowerTail(x);
        return x < 0 ? tail : 1f - tail;
    }

    // ------------------------------------------------------------------ GELU

    /** out = x * Phi(x) on [from, to); out may be x. */
    static void geluForward(float[] x, float[] out, int from, int to) {
        int i = from;
        for (int upper = from + S.loopBound(to - from); i < upper; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, i);
            v.mul(phi(v)).intoArray(out, i);
        }
        for (; i < to; i++) out[i] = x[i] * phi(x[i]);
    }

    /** dx = dout * (Phi(x) + x * pdf(x)) on [from, to); dx may be dout. */
    static void geluBackward(float[] x, float[] dout, float[] dx, int from, int to) {
        int i = from;
        for (int upper = from + S.loopBound(to - from); i < upper; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, i);
            FloatVector pdf = SimdMath.exp(v.mul(v).mul(-0.5f)).mul(INV_SQRT_2PI);
            FloatVector grad = v.fma(pdf, phi(v));
            grad.mul(FloatVector.fromArray(S, dout, i)).intoArray(dx, i);
        }
        for (; i < to; i++) {
            float v = x[i];
            float pdf = SimdMath.exp(v * v * -0.5f) * INV_SQRT_2PI;
            dx[i] = dout[i] * Math.fma(v, pdf, phi(v));
        }
    }

    // ------------------------------------------------------------------ softmax

    /** Softmax of each row in [rowFrom, rowTo), rows of n elements; out may be x. */
    static void softmaxRows(float[] x, float[] out, int n, int rowFrom, int rowTo) {
        for (int r = rowFrom; r < rowTo; r++) {
            int base = r * n;
            float max = max(x, base, n);
            float sum = expShifted(x, base, out, base, n, max);
            SimdElementwise.scale(out, 1f / sum, base, base + n);
        }
    }

    /** Largest of a[off, off + n). */
    static float max(float[] a, int off, int n) {
        FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int j = 0;
        for (int upper = S.loopBound(n); j < upper; j += L) m = m.max(FloatVector.fromArray(S, a, off + j));
        float r = m.reduceLanes(VectorOperators.MAX);
        for (; j < n; j++) r = Math.max(r, a[off + j]);
        return r;
    }

    /** out[j] = exp(a[j] - shift) for n elements; returns their sum. out may alias a. */
    static float expShifted(float[] a, int aOff, float[] out, int outOff, int n, float shift) {
        FloatVector acc = FloatVector.zero(S);
        int j = 0;
        for (int upper = S.loopBound(n); j < upper; j += L) {
            FloatVector e = SimdMath.exp(FloatVector.fromArray(S, a, aOff + j).sub(shift));
            e.intoArray(out, outOff + j);
            acc = acc.add(e);
        }
        float s = SimdMath.sumLanes(acc);
        for (; j < n; j++) {
            float e = SimdMath.exp(a[aOff + j] - shift);
            out[outOff + j] = e;
            s += e;
        }
        return s;
    }
}
