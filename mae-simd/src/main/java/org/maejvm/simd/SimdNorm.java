package org.maejvm.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** LayerNorm over the last dimension (torch.nn.LayerNorm semantics, biased variance), by ranges of rows. */
final class SimdNorm {
    private SimdNorm() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();

    /**
     * x, out [rows, n]; gamma, beta [n]; saves mean and rstd [rows]. Two passes per row (mean, then the
     * squared deviations) rather than E[x^2] - E[x]^2, which cancels badly for rows far from zero.
     */
    static void forward(float[] x, float[] gamma, float[] beta, float eps, float[] out, float[] mean, float[] rstd,
                        int n, int rowFrom, int rowTo) {
        int upper = S.loopBound(n);
        for (int r = rowFrom; r < rowTo; r++) {
            int base = r * n;
            float m = (float) (SimdElementwise.sum(x, base, base + n) / n);
            float rs = (float) (1.0 / Math.sqrt(squaredDeviations(x, base, n, m) / n + eps));
            int j = 0;
            for (; j < upper; j += L) {
                FloatVector xhat = FloatVector.fromArray(S, x, base + j).sub(m).mul(rs);
                xhat.fma(FloatVector.fromArray(S, gamma, j), FloatVector.fromArray(S, beta, j)).intoArray(out, base + j);
            }
            for (; j < n; j++) out[base + j] = (x[base + j] - m) * rs * gamma[j] + beta[j];
            mean[r] = m;
            rstd[r] = rs;
        }
    }

    /** Sum over j < n of (x[off + j] - m)^2, in double. */
    private static double squaredDeviations(float[] x, int off, int n, float m) {
        double total = 0;
        for (int b = 0; b < n; b += SimdElementwise.BLOCK) {
            int end = Math.min(n, b + SimdElementwise.BLOCK), j = b;
            FloatVector acc0 = FloatVector.zero(S), acc1 = acc0;
            for (int upper = b + (end - b) / (2 * L) * (2 * L); j < upper; j += 2 * L) {
                FloatVector d0 = FloatVector.fromArray(S, x, off + j).sub(m);
                FloatVector d1 = FloatVector.fromArray(S, x, off + j + L).sub(m);
                acc0 = d0.fma(d0, acc0);
                acc1 = d1.fma(d1, acc1);
            }
            for (int upper = b + S.loopBound(end - b); j < upper; j += L) {
                FloatVector d = FloatVector.fromArray(S, x, off + j).sub(m);
                acc0 = d.fma(d, acc0);
            }
            float s = SimdMath.sumLanes(acc0.add(acc1));
            for (; j < end; j++) {
                float d = x[off + j] - m;
                s = Math.fma(d, d, s);
            }
            total += s;
        }
        return total;
    }

    /**
     * Backward of {@link #forward} for rows [rowFrom, rowTo): writes dx and sets dgPart / dbPart [n] to this
     * range's contributions to dgamma and dbeta (the caller adds the parts of all ranges).
     * dx = rstd * (dy*g - mean(dy*g) - xhat * mean(dy*g*xhat)).
     *
     * @param groupDg scratch [n]: rows are summed in groups before reaching the parts, to limit float error
     * @param groupDb scratch [n]
     */
    static void backward(float[] dy, float[] x, float[] gamma, float[] mean, float[] rstd, float[] dx,
                         float[] dgPart, float[] dbPart, float[] groupDg, float[] groupDb,
                         int n, int rowFrom, int rowTo) {
        java.util.Arrays.fill(dgPart, 0f);
        java.util.Arrays.fill(dbPart, 0f);
        for (int g = rowFrom; g < rowTo; g += SimdElementwise.ROW_GROUP) {
            int gEnd = Math.min(rowTo, g + SimdElementwise.ROW_GROUP);
            java.util.Arrays.fill(groupDg, 0f);
            java.util.Arrays.fill(groupDb, 0f);
            for (int r = g; r < gEnd; r++) backwardRow(dy, x, gamma, mean[r], rstd[r], dx, groupDg, groupDb, n, r * n);
            SimdElementwise.addRowInto(groupDg, 0, dgPart, n);
            SimdElementwise.addRowInto(groupDb, 0, dbPart, n);
        }
    }

    private static void backwardRow(float[] dy, float[] x, float[] gamma, float m, float s, float[] dx,
                                    float[] dg, float[] db, int n, int base) {
        int upper = S.loopBound(n);
        // pass 1: the two row means the dx formula needs, and the parameter gradients
        FloatVector accDyg = FloatVector.zero(S), accDygXhat = accDyg;
        int j = 0;
        for (; j < upper; j += L) {
            FloatVector d = FloatVector.fromArray(S, dy, base + j);
            FloatVector xhat = FloatVector.fromArray(S, x, base + j).sub(m).mul(s);
            FloatVector dyg = d.mul(FloatVector.fromArray(S, gamma, j));
            accDyg = accDyg.add(dyg);
            accDygXhat = dyg.fma(xhat, accDygXhat);
            d.fma(xhat, FloatVector.fromArray(S, dg, j)).intoArray(dg, j);
            d.add(FloatVector.fromArray(S, db, j)).intoArray(db, j);
        }
        float sumDyg = SimdMath.sumLanes(accDyg), sumDygXhat = SimdMath.sumLanes(accDygXhat);
        for (; j < n; j++) {
            float d = dy[base + j], xhat = (x[base + j] - m) * s, dyg = d * gamma[j];
            sumDyg += dyg;
            sumDygXhat = Math.fma(dyg, xhat, sumDygXhat);
            dg[j] = Math.fma(d, xhat, dg[j]);
            db[j] += d;
        }
        float meanDyg = sumDyg / n, meanDygXhat = sumDygXhat / n;
        // pass 2: dx (dx may alias dy or x: each element is read before it is written)
        j = 0;
        for (; j < upper; j += L) {
            FloatVector xhat = FloatVector.fromArray(S, x, base + j).sub(m).mul(s);
            FloatVector dyg = FloatVector.fromArray(S, dy, base + j).mul(FloatVector.fromArray(S, gamma, j));
            xhat.mul(-meanDygXhat).add(dyg).sub(meanDyg).mul(s).intoArray(dx, base + j);
        }
        for (; j < n; j++) {
            float xhat = (x[base + j] - m) * s, dyg = dy[base + j] * gamma[j];
            dx[base + j] = s * (dyg - meanDyg - xhat * meanDygXhat);
        }
    }
}
