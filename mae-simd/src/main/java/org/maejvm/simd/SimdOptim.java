package org.maejvm.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.maejvm.ops.AdamWParams;

/** Optimizer steps, elementwise over a range of one parameter tensor. */
final class SimdOptim {
    private SimdOptim() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();

    /**
     * torch.optim.AdamW (single-tensor path): w *= 1 - lr * wd, then m and v move toward g and g^2, then
     * w -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps). The moments are formed with the same float operations
     * in the same order as the reference (no FMA), so m and v match it exactly.
     */
    static void adamw(float[] w, float[] g, float[] m, float[] v, AdamWParams p, int from, int to) {
        float b1 = p.beta1(), b2 = p.beta2(), c1 = 1f - b1, c2 = 1f - b2, eps = p.eps();
        float decay = 1f - p.lr() * p.weightDecay();
        float stepSize = (float) (p.lr() / (1.0 - Math.pow(b1, p.step())));
        float invBc2Sqrt = (float) (1.0 / Math.sqrt(1.0 - Math.pow(b2, p.step())));
        int i = from;
        for (int upper = from + S.loopBound(to - from); i < upper; i += L) {
            FloatVector gv = FloatVector.fromArray(S, g, i);
            FloatVector mv = FloatVector.fromArray(S, m, i).mul(b1).add(gv.mul(c1));
            FloatVector vv = FloatVector.fromArray(S, v, i).mul(b2).add(gv.mul(c2).mul(gv));
            FloatVector denom = vv.lanewise(VectorOperators.SQRT).mul(invBc2Sqrt).add(eps);
            FloatVector wv = FloatVector.fromArray(S, w, i).mul(decay);
            wv.sub(mv.mul(stepSize).div(denom)).intoArray(w, i);
            mv.intoArray(m, i);
            vv.intoArray(v, i);
        }
        for (; i < to; i++) {
            float mi = b1 * m[i] + c1 * g[i];
            float vi = b2 * v[i] + c2 * g[i] * g[i];
            float denom = (float) Math.sqrt(vi) * invBc2Sqrt + eps;
            w[i] = w[i] * decay - stepSize * mi / denom;
            m[i] = mi;
            v[i] = vi;
        }
    }
}
