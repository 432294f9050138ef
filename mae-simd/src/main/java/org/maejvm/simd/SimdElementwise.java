package org.maejvm.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Elementwise ops and whole-tensor reductions on float arrays: each kernel handles one range [from, to), so
 * the backend can split the work over threads. Vector body up to {@code loopBound}, scalar tail after.
 */
final class SimdElementwise {
    private SimdElementwise() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();

    /**
     * Reductions fold each block of this many elements into a double. Within a block the float lanes sum at
     * most BLOCK / (4 L) values each, so the float rounding error stays near that of a pairwise sum.
     */
    static final int BLOCK = 1024;

    /** out = a + b. */
    static void add(float[] a, float[] b, float[] out, int from, int to) {
        int i = from;
        for (int upper = from + S.loopBound(to - from); i < upper; i += L) {
            FloatVector.fromArray(S, a, i).add(FloatVector.fromArray(S, b, i)).intoArray(out, i);
        }
        for (; i < to; i++) out[i] = a[i] + b[i];
    }

    /** x *= alpha. */
    static void scale(float[] x, float alpha, int from, int to) {
        int i = from;
        for (int upper = from + S.loopBound(to - from); i < upper; i += L) {
            FloatVector.fromArray(S, x, i).mul(alpha).intoArray(x, i);
        }
        for (; i < to; i++) x[i] *= alpha;
    }

    /** y += alpha * x, rounded once per element (fused multiply-add). */
    static void axpy(float alpha, float[] x, float[] y, int from, int to) {
        FloatVector va = FloatVector.broadcast(S, alpha);
        int i = from;
        for (int upper = from + S.loopBound(to - from); i < upper; i += L) {
            FloatVector.fromArray(S, x, i).fma(va, FloatVector.fromArray(S, y, i)).intoArray(y, i);
        }
        for (; i < to; i++) y[i] = Math.fma(alpha, x[i], y[i]);
    }

    /** x[r, :] += bias for rows r in [rowFrom, rowTo), a row having bias.length elements. */
    static void addBias(float[] x, float[] bias, int rowFrom, int rowTo) {
        int n = bias.length, upper = S.loopBound(n);
        for (int r = rowFrom; r < rowTo; r++) {
            int base = r * n, j = 0;
            for (; j < upper; j += L) {
                FloatVector.fromArray(S, x, base + j).add(FloatVector.fromArray(S, bias, j)).intoArray(x, base + j);
            }
            for (; j < n; j++) x[base + j] += bias[j];
        }
    }

    /**
     * partial[j] = sum of dy[r, j] over rows [rowFrom, rowTo), rows of partial.length elements. Rows are first
     * summed in groups of {@code ROW_GROUP} into {@code scratch}, then added to partial, which keeps the float
     * error of long columns low.
     */
    static void columnSums(float[] dy, float[] partial, float[] scratch, int rowFrom, int rowTo) {
        int n = partial.length;
        java.util.Arrays.fill(partial, 0f);
        for (int g = rowFrom; g < rowTo; g += ROW_GROUP) {
            int gEnd = Math.min(rowTo, g + ROW_GROUP);
            System.arraycopy(dy, g * n, scratch, 0, n);
            for (int r = g + 1; r < gEnd; r++) addRowInto(dy, r * n, scratch, n);
            addRowInto(scratch, 0, partial, n);
        }
    }

    static final int ROW_GROUP = 64;

    /** acc[0, n) += src[off, off + n). */
    static void addRowInto(float[] src, int off, float[] acc, int n) {
        int j = 0;
        for (int upper = S.loopBound(n); j < upper; j += L) {
            FloatVector.fromArray(S, src, off + j).add(FloatVector.fromArray(S, acc, j)).intoArray(acc, j);
        }
        for (; j < n; j++) acc[j] += src[off + j];
    }

    /** Sum of x[from, to), blocks folded into a double. */
    static double sum(float[] x, int from, int to) {
        double total = 0;
        for (int b = from; b < to; b += BLOCK) total += blockSum(x, b, Math.min(to, b + BLOCK));
        return total;
    }

    private static float blockSum(float[] x, int from, int to) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int i = from;
        for (int upper = from + (to - from) / (4 * L) * (4 * L); i < upper; i += 4 * L) {
            a0 = a0.add(FloatVector.fromArray(S, x, i));
            a1 = a1.add(FloatVector.fromArray(S, x, i + L));
            a2 = a2.add(FloatVector.fromArray(S, x, i + 2 * L));
            a3 = a3.add(FloatVector.fromArray(S, x, i + 3 * L));
        }
        for (int upper = from + S.loopBound(to - from); i < upper; i += L) a0 = a0.add(FloatVector.fromArray(S, x, i));
        float s = SimdMath.sumLanes(a0.add(a1).add(a2.add(a3)));
        for (; i < to; i++) s += x[i];
        return s;
    }

    /** Sum of squares of x[from, to), blocks folded into a double. */
    static double sumSquares(float[] x, int from, int to) {
        double total = 0;
        for (int b = from; b < to; b += BLOCK) total += blockSumSquares(x, b, Math.min(to, b + BLOCK));
        return total;
    }

    private static float blockSumSquares(float[] x, int from, int to) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int i = from;
        for (int upper = from + (to - from) / (4 * L) * (4 * L); i < upper; i += 4 * L) {
            FloatVector v0 = FloatVector.fromArray(S, x, i), v1 = FloatVector.fromArray(S, x, i + L);
            FloatVector v2 = FloatVector.fromArray(S, x, i + 2 * L), v3 = FloatVector.fromArray(S, x, i + 3 * L);
            a0 = v0.fma(v0, a0);
            a1 = v1.fma(v1, a1);
            a2 = v2.fma(v2, a2);
            a3 = v3.fma(v3, a3);
        }
        for (int upper = from + S.loopBound(to - from); i < upper; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, i);
            a0 = v.fma(v, a0);
        }
        float s = SimdMath.sumLanes(a0.add(a1).add(a2.add(a3)));
        for (; i < to; i++) s = Math.fma(x[i], x[i], s);
        return s;
    }

    /** Dot product of a[aOff, aOff + n) and b[bOff, bOff + n) in float. */
    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc0 = FloatVector.zero(S), acc1 = acc0;
        int j = 0;
        for (int upper = n / (2 * L) * (2 * L); j < upper; j += 2 * L) {
            acc0 = FloatVector.fromArray(S, a, aOff + j).fma(FloatVector.fromArray(S, b, bOff + j), acc0);
            acc1 = FloatVector.fromArray(S, a, aOff + j + L).fma(FloatVector.fromArray(S, b, bOff + j + L), acc1);
        }
        for (int upper = S.loopBound(n); j < upper; j += L) {
            acc0 = FloatVector.fromArray(S, a, aOff + j).fma(FloatVector.fromArray(S, b, bOff + j), acc0);
        }
        float s = SimdMath.sumLanes(acc0.add(acc1));
        for (; j < n; j++) s = Math.fma(a[aOff + j], b[bOff + j], s);
        return s;
    }
}
