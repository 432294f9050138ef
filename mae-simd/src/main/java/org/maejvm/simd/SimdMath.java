package org.maejvm.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp in float from basic IEEE operations, in a vector and a scalar form that perform the same operations in
 * the same order and so return the same bits.
 *
 * <p>Why not {@code lanewise(EXP)}: its result depends on whether the JIT has compiled the caller (an
 * intrinsic then, Math.exp per lane before), so a kernel's output could change between runs and thread
 * counts; and on CPUs without an intrinsic it is a slow scalar loop. This one is plain arithmetic.
 *
 * <p>Method (Cody and Waite): x = k ln2 + r with k = round(x / ln2), |r| <= ln2 / 2, ln2 split in a short
 * high part (k * LN2_HI exact) and a low part; exp(r) by its Taylor polynomial of degree 7 (truncation below
 * 0.35^8 / 8! = 6e-9 relative); 2^k by writing k + 127 into the exponent bits. Error about 1-2 ulp.
 * Range: below -87.33 the result is 0 (no subnormals); above 88 it is +infinity, slightly before float
 * overflow (88.72); every caller here passes arguments <= 0 or close to it.
 */
final class SimdMath {
    private SimdMath() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693145751953125f;
    private static final float LN2_LO = 1.42860682030941723e-6f;
    /** 1.5 * 2^23: adding and subtracting it rounds a float below 2^22 to the nearest integer. */
    private static final float ROUNDER = 12582912f;
    private static final float LOWEST = -87.33654f;
    private static final float HIGHEST = 88f;
    // 1/7!, 1/6!, ..., 1/2!, 1, 1 (Horner order)
    private static final float C7 = 1f / 5040f, C6 = 1f / 720f, C5 = 1f / 120f, C4 = 1f / 24f, C3 = 1f / 6f, C2 = 0.5f;

    /**
     * The sum of a vector's lanes, added in lane order. reduceLanes(ADD) may add in another order once the JIT
     * has compiled the caller than before, which would make results depend on warm-up; this does not.
     */
    static float sumLanes(FloatVector v) {
        float s = v.lane(0);
        for (int i = 1; i < S.length(); i++) s += v.lane(i);
        return s;
    }

    static float exp(float x) {
        if (x < LOWEST) return 0f;
        if (x > HIGHEST) return Float.POSITIVE_INFINITY;
        if (x != x) return x;
        float k = Math.fma(x, LOG2E, ROUNDER) - ROUNDER;
        float r = Math.fma(-k, LN2_HI, x);
        r = Math.fma(-k, LN2_LO, r);
        float p = Math.fma(r, C7, C6);
        p = Math.fma(p, r, C5);
        p = Math.fma(p, r, C4);
        p = Math.fma(p, r, C3);
        p = Math.fma(p, r, C2);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        return p * Float.intBitsToFloat(((int) k + 127) << 23);
    }

    /**
     * a[i] = exp(a[i]) on [from, to): the only vector exp. Kernels that need exp inside a longer expression write
     * its arguments to a row or a small scratch block and call this, rather than calling a vector-valued exp
     * helper: C2 does not always inline such a helper (node count, stack use, or once the helper has big compiled
     * code of its own), and a helper that is not inlined boxes every vector it takes and returns. Here the loop
     * body holds the whole computation, so nothing crosses a call.
     */
    static void expInPlace(float[] a, int from, int to) {
        int i = from;
        for (int upper = from + S.loopBound(to - from); i < upper; i += S.length()) {
            FloatVector x = FloatVector.fromArray(S, a, i);
            FloatVector xc = x.max(LOWEST).min(HIGHEST);
            // x = k ln2 + r with k integer, |r| <= ln2 / 2; exp(x) = 2^k exp(r), exp(r) by its Taylor polynomial.
            FloatVector k = xc.fma(FloatVector.broadcast(S, LOG2E), FloatVector.broadcast(S, ROUNDER)).sub(ROUNDER);
            FloatVector r = k.neg().fma(FloatVector.broadcast(S, LN2_HI), xc);
            r = k.neg().fma(FloatVector.broadcast(S, LN2_LO), r);
            FloatVector p = r.fma(FloatVector.broadcast(S, C7), FloatVector.broadcast(S, C6));
            p = p.fma(r, FloatVector.broadcast(S, C5));
            p = p.fma(r, FloatVector.broadcast(S, C4));
            p = p.fma(r, FloatVector.broadcast(S, C3));
            p = p.fma(r, FloatVector.broadcast(S, C2));
            p = p.fma(r, FloatVector.broadcast(S, 1f));
            p = p.fma(r, FloatVector.broadcast(S, 1f));
            IntVector bits = ((IntVector) k.convertShape(VectorOperators.F2I, I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
            FloatVector e = p.mul(bits.reinterpretAsFloats());
            e = e.blend(0f, x.compare(VectorOperators.LT, LOWEST));
            e.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, HIGHEST)).intoArray(a, i);
        }
        for (; i < to; i++) a[i] = exp(a[i]);
    }

    /** a[i] = alpha * a[i] - shift on [from, to), the arguments of an exp, rounded as alpha * a first. */
    static void scaleShift(float[] a, int from, int to, float alpha, float shift) {
        int i = from;
        for (int upper = from + S.loopBound(to - from); i < upper; i += S.length()) {
            FloatVector.fromArray(S, a, i).mul(alpha).sub(shift).intoArray(a, i);
        }
        for (; i < to; i++) a[i] = alpha * a[i] - shift;
    }

    /** Sum of a[from, to): vectors summed lane-wise first, then the lanes in order, then the tail. */
    static float sum(float[] a, int from, int to) {
        FloatVector acc = FloatVector.zero(S);
        int i = from;
        for (int upper = from + S.loopBound(to - from); i < upper; i += S.length()) {
            acc = acc.add(FloatVector.fromArray(S, a, i));
        }
        float s = sumLanes(acc);
        for (; i < to; i++) s += a[i];
        return s;
    }
}
