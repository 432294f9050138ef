package org.maejvm.simd;

import jdk.incubator.vector.FloatVector;
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

    /**
     * The GELU loops work through their range in blocks of this many elements: a first pass writes the
     * arguments of exp to thread-local scratch, {@link SimdMath#expInPlace} exponentiates them, a last pass
     * combines. Each pass is a small loop that C2 compiles without boxing a vector (see expInPlace).
     */
    static final int BLOCK = 256;

    /** Per thread: t of erfcc, then the erfcc exponent, then (backward) the pdf exponent; BLOCK each. */
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[3 * BLOCK]);

    /**
     * For x[off, off + n): t = 1 / (1 + z / 2) with z = |x| / sqrt 2 into s[0, n), and the exponent of
     * erfc(z) = t exp(-z^2 - 1.26551223 + t P(t)) into s[BLOCK, BLOCK + n).
     */
    private static void erfcParts(float[] x, int off, int n, float[] s) {
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, off + i);
            FloatVector z = v.abs().mul(INV_SQRT2);
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
            t.intoArray(s, i);
            v.mul(-0.5f).fma(v, t.fma(p, FloatVector.broadcast(S, ERFC_C0))).intoArray(s, BLOCK + i);
        }
        for (; i < n; i++) {
            float v = x[off + i];
            float t = 1f / Math.fma(Math.abs(v) * INV_SQRT2, 0.5f, 1f);
            float p = Math.fma(t, P8, P7);
            p = Math.fma(p, t, P6);
            p = Math.fma(p, t, P5);
            p = Math.fma(p, t, P4);
            p = Math.fma(p, t, P3);
            p = Math.fma(p, t, P2);
            p = Math.fma(p, t, P1);
            p = Math.fma(p, t, P0);
            s[i] = t;
            s[BLOCK + i] = Math.fma(-0.5f * v, v, Math.fma(t, p, ERFC_C0));
        }
    }

    /** Phi(x) from x and its lower tail Phi(-|x|) = t exp(arg) / 2 (the loops write this out for vectors: C2
     *  did not always inline a helper there, and a helper that is not inlined boxes its vectors). */
    private static float phi(float x, float t, float expArg) {
        float tail = t * expArg * 0.5f;
        return x < 0 ? tail : 1f - tail;
    }

    /** out = Phi(x) on [from, to), the normal CDF on its own (for tests of its accuracy). */
    static void phi(float[] x, float[] out, int from, int to) {
        phiTimes(x, out, from, to, false);
    }

    // ------------------------------------------------------------------ GELU

    /** out = x * Phi(x) on [from, to); out may be x. */
    static void geluForward(float[] x, float[] out, int from, int to) {
        phiTimes(x, out, from, to, true);
    }

    /** out = Phi(x), times x when {@code timesX} (GELU), on [from, to); out may be x. */
    private static void phiTimes(float[] x, float[] out, int from, int to, boolean timesX) {
        float[] s = SCRATCH.get();
        for (int off = from; off < to; off += BLOCK) {
            int n = Math.min(BLOCK, to - off);
            erfcParts(x, off, n, s);
            SimdMath.expInPlace(s, BLOCK, BLOCK + n);
            int i = 0;
            for (int upper = S.loopBound(n); i < upper; i += L) {
                FloatVector v = FloatVector.fromArray(S, x, off + i);
                FloatVector tail = FloatVector.fromArray(S, s, i).mul(FloatVector.fromArray(S, s, BLOCK + i)).mul(0.5f);
                FloatVector phi = tail.neg().add(1f).blend(tail, v.compare(VectorOperators.LT, 0f));
                // two stores rather than a vector picked by ?:, which C2 may box where the branches merge
                if (timesX) v.mul(phi).intoArray(out, off + i);
                else phi.intoArray(out, off + i);
            }
            for (; i < n; i++) {
                float phi = phi(x[off + i], s[i], s[BLOCK + i]);
                out[off + i] = timesX ? x[off + i] * phi : phi;
            }
        }
    }

    /** dx = dout * (Phi(x) + x * pdf(x)) on [from, to); dx may be dout. */
    static void geluBackward(float[] x, float[] dout, float[] dx, int from, int to) {
        float[] s = SCRATCH.get();
        for (int off = from; off < to; off += BLOCK) {
            int n = Math.min(BLOCK, to - off);
            erfcParts(x, off, n, s);
            int i = 0;
            for (int upper = S.loopBound(n); i < upper; i += L) {
                FloatVector v = FloatVector.fromArray(S, x, off + i);
                v.mul(v).mul(-0.5f).intoArray(s, 2 * BLOCK + i);
            }
            for (; i < n; i++) s[2 * BLOCK + i] = x[off + i] * x[off + i] * -0.5f;
            SimdMath.expInPlace(s, BLOCK, BLOCK + n);
            SimdMath.expInPlace(s, 2 * BLOCK, 2 * BLOCK + n);
            i = 0;
            for (int upper = S.loopBound(n); i < upper; i += L) {
                FloatVector v = FloatVector.fromArray(S, x, off + i);
                FloatVector pdf = FloatVector.fromArray(S, s, 2 * BLOCK + i).mul(INV_SQRT_2PI);
                FloatVector tail = FloatVector.fromArray(S, s, i).mul(FloatVector.fromArray(S, s, BLOCK + i)).mul(0.5f);
                v.fma(pdf, tail.neg().add(1f).blend(tail, v.compare(VectorOperators.LT, 0f))).mul(FloatVector.fromArray(S, dout, off + i)).intoArray(dx, off + i);
            }
            for (; i < n; i++) {
                float v = x[off + i];
                float pdf = s[2 * BLOCK + i] * INV_SQRT_2PI;
                dx[off + i] = dout[off + i] * Math.fma(v, pdf, phi(v, s[i], s[BLOCK + i]));
            }
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
        if (out != a || outOff != aOff) System.arraycopy(a, aOff, out, outOff, n);
        SimdMath.scaleShift(out, outOff, outOff + n, 1f, shift);
        SimdMath.expInPlace(out, outOff, outOff + n);
        return SimdMath.sum(out, outOff, outOff + n);
    }
}
