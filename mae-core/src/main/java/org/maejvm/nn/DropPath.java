package org.maejvm.nn;

import java.util.random.RandomGenerator;
import org.maejvm.ops.Backend;
import org.maejvm.tensor.Tensor;

/**
 * Stochastic depth on a residual branch, as timm's {@code drop_path}: during training each sample's branch is kept
 * with probability {@code keep = 1 - rate} and then scaled by {@code 1 / keep}, so its expected value is unchanged;
 * otherwise it is zeroed for the whole sample. In eval mode, or with rate 0, it is the identity.
 *
 * <p>The per-sample scale is applied with a batched 1x1 GEMM ({@code out_b += s_b * branch_b}), the same cost as
 * an axpy, so no new backend op is needed. The mask is drawn on the host from a caller's generator (or given
 * explicitly), so a step is reproducible from its seed.
 */
public final class DropPath extends Layer {
    private final double rate;
    private float[] scales; // per-sample multiplier for this step; null = identity
    private Tensor scaleTensor, dBranch;

    public DropPath(Backend backend, double rate) {
        super(backend);
        if (!(rate >= 0 && rate < 1)) throw new IllegalArgumentException("drop path rate must be in [0, 1), got " + rate);
        this.rate = rate;
    }

    public double rate() { return rate; }

    /** True when the current step drops or rescales something. */
    public boolean active() { return scales != null; }

    /**
     * Draws the keep mask of a training step: sample i is kept iff {@code floor(keep + u_i) == 1} for uniform u_i,
     * timm's formula. With rate 0 this is the identity.
     */
    public void sample(int batch, RandomGenerator rng) {
        if (rate == 0) {
            scales = null;
            return;
        }
        float[] keep = new float[batch];
        double keepProb = 1 - rate;
        for (int i = 0; i < batch; i++) keep[i] = (float) Math.floor(keepProb + rng.nextDouble());
        setKeepMask(keep);
    }

    /**
     * Sets the mask explicitly: keep[i] is 1 (sample kept, scaled by 1/(1-rate)) or 0 (branch dropped). With rate 0
     * the mask is ignored, as timm replaces such a DropPath by an Identity.
     */
    public void setKeepMask(float[] keep) {
        if (rate == 0) {
            scales = null;
            return;
        }
        float inv = (float) (1 / (1 - rate));
        float[] s = new float[keep.length];
        for (int i = 0; i < keep.length; i++) {
            if (keep[i] != 0f && keep[i] != 1f) {
                throw new IllegalArgumentException("drop path keep mask must hold 0 or 1, got " + keep[i] + " at sample " + i);
            }
            s[i] = keep[i] * inv;
        }
        scales = s;
        scaleTensor = ensure(scaleTensor, s.length);
        backend.upload(s, scaleTensor);
    }

    /** Back to the identity (eval mode, or a step without stochastic depth). */
    public void disable() { scales = null; }

    /** out = x + dropPath(branch), all [B, ...] with the same shape; out may not alias branch. */
    public void addResidual(Tensor x, Tensor branch, Tensor out) {
        if (scales == null) {
            backend.add(x, branch, out);
            return;
        }
        int b = checkBatch(branch);
        int per = branch.size() / b;
        if (out != x) backend.copy(x, 0, out, 0, x.size());
        backend.gemmBatched(false, false, 1, per, 1, 1f, scaleTensor, 0, 1, 1, branch, 0, per, per, 1f, out, 0, per, per, b);
    }

    /** The gradient of the branch from the gradient of the residual sum: dy scaled per sample (dy itself when identity). */
    public Tensor backward(Tensor dy) {
        if (scales == null) return dy;
        int b = checkBatch(dy);
        int per = dy.size() / b;
        dBranch = ensure(dBranch, dy.shape());
        backend.gemmBatched(false, false, 1, per, 1, 1f, scaleTensor, 0, 1, 1, dy, 0, per, per, 0f, dBranch, 0, per, per, b);
        return dBranch;
    }

    private int checkBatch(Tensor t) {
        int b = scales.length;
        if (t.rank() < 1 || t.dim(0) != b) {
            throw new IllegalArgumentException("drop path mask is for " + b + " samples, the tensor is " + t);
        }
        return b;
    }
}
