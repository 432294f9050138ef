package org.maejvm.ops;

import static org.maejvm.tensor.HostTensor.floats;
import static org.maejvm.tensor.HostTensor.ints;

import org.maejvm.tensor.Tensor;

/**
 * The oracle: plain scalar Java, one thread, sums in double. Every other backend is tested against it.
 * Keep it obviously correct rather than fast; each kernel follows the PyTorch definition it names.
 */
public final class ReferenceBackend extends HostBackend {

    @Override
    public String name() { return "reference"; }

    // ------------------------------------------------------------------ GEMM

    @Override
    protected void gemmKernel(boolean transA, boolean transB, int m, int n, int k, float alpha,
                              Tensor a, int offA, int lda, int strideA, Tensor b, int offB, int ldb, int strideB,
                              float beta, Tensor c, int offC, int ldc, int strideC, int batch) {
        float[] A = floats(a), B = floats(b), C = floats(c);
        for (int p = 0; p < batch; p++) {
            int oa = offA + p * strideA, ob = offB + p * strideB, oc = offC + p * strideC;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int l = 0; l < k; l++) {
                        float av = transA ? A[oa + l * lda + i] : A[oa + i * lda + l];
                        float bv = transB ? B[ob + j * ldb + l] : B[ob + l * ldb + j];
                        acc += (double) av * bv;
                    }
                    int ci = oc + i * ldc + j;
                    C[ci] = (float) (alpha * acc + (beta == 0f ? 0.0 : (double) beta * C[ci]));
                }
            }
        }
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    protected void addKernel(Tensor a, Tensor b, Tensor out) {
        float[] x = floats(a), y = floats(b), o = floats(out);
        for (int i = 0; i < o.length; i++) o[i] = x[i] + y[i];
    }

    @Override
    protected void scaleKernel(Tensor x, float alpha) {
        float[] d = floats(x);
        for (int i = 0; i < d.length; i++) d[i] *= alpha;
    }

    @Override
    protected void axpyKernel(float alpha, Tensor x, Tensor y) {
        float[] xs = floats(x), ys = floats(y);
        for (int i = 0; i < ys.length; i++) ys[i] += alpha * xs[i];
    }

    @Override
    protected void addBiasKernel(Tensor x, Tensor bias) {
        float[] d = floats(x), bs = floats(bias);
        for (int i = 0; i < d.length; i++) d[i] += bs[i % bs.length];
    }

    @Override
    protected void biasGradKernel(Tensor dy, Tensor dbias) {
        float[] g = floats(dy), db = floats(dbias);
        int n = db.length, rows = g.length / n;
        for (int j = 0; j < n; j++) {
            double acc = 0;
            for (int r = 0; r < rows; r++) acc += g[r * n + j];
            db[j] += (float) acc;
        }
    }

    // ------------------------------------------------------------------ normalisation and activations

    @Override
    protected void layerNormForwardKernel(Tensor x, Tensor gamma, Tensor beta, float eps,
                                          Tensor out, Tensor mean, Tensor rstd) {
        float[] in = floats(x), g = floats(gamma), bt = floats(beta), o = floats(out), mu = floats(mean), rs = floats(rstd);
        int n = x.cols(), rows = x.rows();
        for (int r = 0; r < rows; r++) {
            int base = r * n;
            double s = 0;
            for (int j = 0; j < n; j++) s += in[base + j];
            double m = s / n;
            double v = 0;
            for (int j = 0; j < n; j++) {
                double d = in[base + j] - m;
                v += d * d;
            }
            double rstdv = 1.0 / Math.sqrt(v / n + eps);
            for (int j = 0; j < n; j++) o[base + j] = (float) ((in[base + j] - m) * rstdv * g[j] + bt[j]);
            mu[r] = (float) m;
            rs[r] = (float) rstdv;
        }
    }

    @Override
    protected void layerNormBackwardKernel(Tensor dout, Tensor x, Tensor gamma, Tensor mean, Tensor rstd,
                                           Tensor dx, Tensor dgamma, Tensor dbeta) {
        float[] dy = floats(dout), in = floats(x), g = floats(gamma), mu = floats(mean), rs = floats(rstd);
        float[] dxs = floats(dx), dg = floats(dgamma), db = floats(dbeta);
        int n = x.cols(), rows = x.rows();
        double[] dgAcc = new double[n], dbAcc = new double[n];
        double[] dyg = new double[n];
        for (int r = 0; r < rows; r++) {
            int base = r * n;
            double m = mu[r], s = rs[r];
            // dx = rstd * (dy*g - mean(dy*g) - xhat * mean(dy*g*xhat))
            double sumDyg = 0, sumDygXhat = 0;
            for (int j = 0; j < n; j++) {
                double xhat = (in[base + j] - m) * s;
                dyg[j] = (double) dy[base + j] * g[j];
                sumDyg += dyg[j];
                sumDygXhat += dyg[j] * xhat;
                dgAcc[j] += dy[base + j] * xhat;
                dbAcc[j] += dy[base + j];
            }
            double meanDyg = sumDyg / n, meanDygXhat = sumDygXhat / n;
            for (int j = 0; j < n; j++) {
                double xhat = (in[base + j] - m) * s;
                dxs[base + j] = (float) (s * (dyg[j] - meanDyg - xhat * meanDygXhat));
            }
        }
        for (int j = 0; j < n; j++) {
            dg[j] += (float) dgAcc[j];
            db[j] += (float) dbAcc[j];
        }
    }

    @Override
    protected void geluForwardKernel(Tensor x, Tensor out) {
        float[] in = floats(x), o = floats(out);
        for (int i = 0; i < o.length; i++) {
            double v = in[i];
            o[i] = (float) (v * 0.5 * (1.0 + Erf.erf(v / Math.sqrt(2.0))));
        }
    }

    @Override
    protected void geluBackwardKernel(Tensor x, Tensor dout, Tensor dx) {
        float[] in = floats(x), dy = floats(dout), o = floats(dx);
        double invSqrt2Pi = 1.0 / Math.sqrt(2.0 * Math.PI);
        for (int i = 0; i < o.length; i++) {
            double v = in[i];
            double cdf = 0.5 * (1.0 + Erf.erf(v / Math.sqrt(2.0)));
            double pdf = invSqrt2Pi * Math.exp(-0.5 * v * v);
            o[i] = (float) (dy[i] * (cdf + v * pdf));
        }
    }

    @Override
    protected void softmaxKernel(Tensor x, Tensor out) {
        float[] in = floats(x), o = floats(out);
        int n = x.cols(), rows = x.rows();
        for (int r = 0; r < rows; r++) {
            int base = r * n;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) max = Math.max(max, in[base + j]);
            double s = 0;
            double[] e = new double[n];
            for (int j = 0; j < n; j++) {
                e[j] = Math.exp(in[base + j] - max);
                s += e[j];
            }
            for (int j = 0; j < n; j++) o[base + j] = (float) (e[j] / s);
        }
    }

    // ------------------------------------------------------------------ attention

    @Override
    protected void attentionForwardKernel(AttentionShape s, RowView q, RowView k, RowView v, RowView out, Tensor lse) {
        float[] Q = floats(q.tensor()), K = floats(k.tensor()), V = floats(v.tensor()), O = floats(out.tensor());
        float[] L = floats(lse);
        int tq = s.queryLen(), tk = s.keyLen(), hd = s.headDim();
        double[] p = new double[tk];
        for (int b = 0; b < s.batch(); b++) {
            for (int h = 0; h < s.heads(); h++) {
                for (int i = 0; i < tq; i++) {
                    int qi = q.offset() + (b * tq + i) * q.stride() + h * hd;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < tk; j++) {
                        int kj = k.offset() + (b * tk + j) * k.stride() + h * hd;
                        double dot = 0;
                        for (int d = 0; d < hd; d++) dot += (double) Q[qi + d] * K[kj + d];
                        p[j] = dot * s.scale();
                        max = Math.max(max, p[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < tk; j++) {
                        p[j] = Math.exp(p[j] - max);
                        sum += p[j];
                    }
                    L[(b * s.heads() + h) * tq + i] = (float) (max + Math.log(sum));
                    int oi = out.offset() + (b * tq + i) * out.stride() + h * hd;
                    for (int d = 0; d < hd; d++) {
                        double acc = 0;
                        for (int j = 0; j < tk; j++) acc += p[j] * V[v.offset() + (b * tk + j) * v.stride() + h * hd + d];
                        O[oi + d] = (float) (acc / sum);
                    }
                }
            }
        }
    }

    @Override
    protected void attentionBackwardKernel(AttentionShape s, RowView q, RowView k, RowView v, RowView out,
                                           RowView dout, Tensor lse, RowView dq, RowView dk, RowView dv) {
        float[] Q = floats(q.tensor()), K = floats(k.tensor()), V = floats(v.tensor()), O = floats(out.tensor());
        float[] dO = floats(dout.tensor()), L = floats(lse);
        float[] dQ = floats(dq.tensor()), dK = floats(dk.tensor()), dV = floats(dv.tensor());
        int tq = s.queryLen(), tk = s.keyLen(), hd = s.headDim();
        double[] dqAcc = new double[tq * hd], dkAcc = new double[tk * hd], dvAcc = new double[tk * hd];
        double[] p = new double[tk], dp = new double[tk];
        for (int b = 0; b < s.batch(); b++) {
            for (int h = 0; h < s.heads(); h++) {
                java.util.Arrays.fill(dqAcc, 0);
                java.util.Arrays.fill(dkAcc, 0);
                java.util.Arrays.fill(dvAcc, 0);
                for (int i = 0; i < tq; i++) {
                    int qi = q.offset() + (b * tq + i) * q.stride() + h * hd;
                    int oi = out.offset() + (b * tq + i) * out.stride() + h * hd;
                    int gi = dout.offset() + (b * tq + i) * dout.stride() + h * hd;
                    double lseI = L[(b * s.heads() + h) * tq + i];
                    // D_i = dO_i . O_i equals sum_j P_ij dP_ij, the softmax-backward correction.
                    double di = 0;
                    for (int d = 0; d < hd; d++) di += (double) dO[gi + d] * O[oi + d];
                    for (int j = 0; j < tk; j++) {
                        int kj = k.offset() + (b * tk + j) * k.stride() + h * hd;
                        int vj = v.offset() + (b * tk + j) * v.stride() + h * hd;
                        double dot = 0, dpj = 0;
                        for (int d = 0; d < hd; d++) {
                            dot += (double) Q[qi + d] * K[kj + d];
                            dpj += (double) dO[gi + d] * V[vj + d];
                        }
                        p[j] = Math.exp(dot * s.scale() - lseI);
                        dp[j] = dpj;
                    }
                    for (int j = 0; j < tk; j++) {
                        int kj = k.offset() + (b * tk + j) * k.stride() + h * hd;
                        double ds = p[j] * (dp[j] - di) * s.scale();
                        for (int d = 0; d < hd; d++) {
                            dvAcc[j * hd + d] += p[j] * dO[gi + d];
                            dqAcc[i * hd + d] += ds * K[kj + d];
                            dkAcc[j * hd + d] += ds * Q[qi + d];
                        }
                    }
                }
                for (int i = 0; i < tq; i++) {
                    int o = dq.offset() + (b * tq + i) * dq.stride() + h * hd;
                    for (int d = 0; d < hd; d++) dQ[o + d] = (float) dqAcc[i * hd + d];
                }
                for (int j = 0; j < tk; j++) {
                    int ok = dk.offset() + (b * tk + j) * dk.stride() + h * hd;
                    int ov = dv.offset() + (b * tk + j) * dv.stride() + h * hd;
                    for (int d = 0; d < hd; d++) {
                        dK[ok + d] = (float) dkAcc[j * hd + d];
                        dV[ov + d] = (float) dvAcc[j * hd + d];
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ masking

    @Override
    protected void gatherRowsKernel(Tensor src, Tensor index, Tensor dst, int srcRows, int width) {
        float[] s = floats(src), d = floats(dst);
        int[] idx = ints(index);
        int batch = index.dim(0), kept = index.dim(1);
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < kept; j++) {
                int row = checkIndex("gatherRows", idx[b * kept + j], srcRows, b, j);
                System.arraycopy(s, (b * srcRows + row) * width, d, (b * kept + j) * width, width);
            }
        }
    }

    @Override
    protected void scatterAddRowsKernel(Tensor src, Tensor index, Tensor dst, int dstRows, int width) {
        float[] s = floats(src), d = floats(dst);
        int[] idx = ints(index);
        int batch = index.dim(0), kept = index.dim(1);
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < kept; j++) {
                int row = checkIndex("scatterAddRows", idx[b * kept + j], dstRows, b, j);
                int so = (b * kept + j) * width, dof = (b * dstRows + row) * width;
                for (int c = 0; c < width; c++) d[dof + c] += s[so + c];
            }
        }
    }

    static int checkIndex(String op, int value, int rows, int b, int j) {
        if (value < 0 || value >= rows) {
            throw new IllegalArgumentException(op + ": index[" + b + ", " + j + "] = " + value + " is outside [0, " + rows + ")");
        }
        return value;
    }

    @Override
    protected void patchifyKernel(Tensor imgs, int p, boolean channelsLast, Tensor out) {
        float[] in = floats(imgs), o = floats(out);
        int bs = imgs.dim(0), c = imgs.dim(1), h = imgs.dim(2), w = imgs.dim(3);
        int gh = h / p, gw = w / p, feat = p * p * c;
        for (int b = 0; b < bs; b++) {
            for (int ph = 0; ph < gh; ph++) {
                for (int pw = 0; pw < gw; pw++) {
                    int row = (b * gh * gw + ph * gw + pw) * feat;
                    for (int ch = 0; ch < c; ch++) {
                        for (int i = 0; i < p; i++) {
                            for (int j = 0; j < p; j++) {
                                float val = in[((b * c + ch) * h + ph * p + i) * w + pw * p + j];
                                int f = channelsLast ? (i * p + j) * c + ch : (ch * p + i) * p + j;
                                o[row + f] = val;
                            }
                        }
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ losses

    @Override
    protected float maskedMseForwardKernel(Tensor pred, Tensor target, Tensor mask, boolean normPix) {
        float[] pr = floats(pred), tg = floats(target), mk = floats(mask);
        int rows = mk.length, pd = pr.length / rows;
        double num = 0, den = 0;
        double[] t = new double[pd];
        for (int r = 0; r < rows; r++) {
            normalisedTarget(tg, r * pd, pd, normPix, t);
            double se = 0;
            for (int j = 0; j < pd; j++) {
                double d = pr[r * pd + j] - t[j];
                se += d * d;
            }
            num += se / pd * mk[r];
            den += mk[r];
        }
        return (float) (num / den);
    }

    @Override
    protected void maskedMseBackwardKernel(Tensor pred, Tensor target, Tensor mask, boolean normPix,
                                           float dLoss, Tensor dpred) {
        float[] pr = floats(pred), tg = floats(target), mk = floats(mask), g = floats(dpred);
        int rows = mk.length, pd = pr.length / rows;
        double den = 0;
        for (float m : mk) den += m;
        double[] t = new double[pd];
        for (int r = 0; r < rows; r++) {
            normalisedTarget(tg, r * pd, pd, normPix, t);
            double coef = dLoss * 2.0 * mk[r] / (pd * den);
            for (int j = 0; j < pd; j++) g[r * pd + j] = (float) (coef * (pr[r * pd + j] - t[j]));
        }
    }

    /** MAE's norm_pix_loss target: (t - mean) / sqrt(var + 1e-6), var unbiased (torch's default). */
    private static void normalisedTarget(float[] tg, int off, int n, boolean normPix, double[] out) {
        if (!normPix) {
            for (int j = 0; j < n; j++) out[j] = tg[off + j];
            return;
        }
        double s = 0;
        for (int j = 0; j < n; j++) s += tg[off + j];
        double mean = s / n, v = 0;
        for (int j = 0; j < n; j++) {
            double d = tg[off + j] - mean;
            v += d * d;
        }
        double denom = Math.sqrt(v / (n - 1) + 1e-6);
        for (int j = 0; j < n; j++) out[j] = (tg[off + j] - mean) / denom;
    }

    @Override
    protected float softmaxCrossEntropyKernel(Tensor logits, Tensor targets, Tensor dlogits) {
        float[] z = floats(logits), y = floats(targets);
        float[] g = dlogits == null ? null : floats(dlogits);
        int c = logits.cols(), n = logits.rows();
        double loss = 0;
        for (int r = 0; r < n; r++) {
            int base = r * c;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) max = Math.max(max, z[base + j]);
            double s = 0;
            for (int j = 0; j < c; j++) s += Math.exp(z[base + j] - max);
            double logZ = max + Math.log(s);
            for (int j = 0; j < c; j++) {
                loss -= y[base + j] * (z[base + j] - logZ);
                if (g != null) g[base + j] = (float) ((Math.exp(z[base + j] - logZ) - y[base + j]) / n);
            }
        }
        return (float) (loss / n);
    }

    // ------------------------------------------------------------------ optimizer and reductions

    @Override
    protected void adamwKernel(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWParams p) {
        float[] w = floats(param), g = floats(grad), ms = floats(m), vs = floats(v);
        // torch.optim.AdamW (single-tensor path): decay first, then the bias-corrected Adam update.
        double bc1 = 1.0 - Math.pow(p.beta1(), p.step());
        double bc2 = 1.0 - Math.pow(p.beta2(), p.step());
        double stepSize = p.lr() / bc1;
        double bc2Sqrt = Math.sqrt(bc2);
        float decay = 1f - p.lr() * p.weightDecay();
        for (int i = 0; i < w.length; i++) {
            w[i] *= decay;
            ms[i] = p.beta1() * ms[i] + (1f - p.beta1()) * g[i];
            vs[i] = p.beta2() * vs[i] + (1f - p.beta2()) * g[i] * g[i];
            double denom = Math.sqrt(vs[i]) / bc2Sqrt + p.eps();
            w[i] = (float) (w[i] - stepSize * ms[i] / denom);
        }
    }

    @Override
    protected float sumKernel(Tensor x) {
        double s = 0;
        for (float f : floats(x)) s += f;
        return (float) s;
    }

    @Override
    protected float sumSquaresKernel(Tensor x) {
        double s = 0;
        for (float f : floats(x)) s += (double) f * f;
        return (float) s;
    }
}
