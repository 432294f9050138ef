package org.maejvm.ops;

import org.maejvm.tensor.DType;
import org.maejvm.tensor.Shapes;
import org.maejvm.tensor.Tensor;

/**
 * A compute backend: owns tensor storage and runs the ops every layer is built from.
 *
 * <p>The public methods check their arguments once, here, and name the op and the bad input in the error;
 * each backend implements only the protected kernels. A matrix-shaped argument is read as rows of its last
 * dimension. Backward ops overwrite input gradients and accumulate ({@code +=}) parameter gradients, the
 * llm.c convention, so shared and residual parameters need no special casing.
 */
public abstract class Backend implements AutoCloseable {

    /** Short name used on the command line and in benchmark output: "reference", "simd", "tornado". */
    public abstract String name();

    /** Worker threads this backend computes with. */
    public int threads() { return 1; }

    @Override
    public void close() {}

    // ------------------------------------------------------------------ storage

    /** A zero-filled float tensor. */
    public abstract Tensor zeros(int... shape);

    /** A zero-filled int tensor. */
    public abstract Tensor zerosInt(int... shape);

    /** Copies host data into a new tensor of this backend. */
    public final Tensor fromHost(float[] data, int... shape) {
        Tensor t = zeros(shape);
        upload(data, t);
        return t;
    }

    public final Tensor fromHost(int[] data, int... shape) {
        Tensor t = zerosInt(shape);
        upload(data, t);
        return t;
    }

    /** Overwrites an existing float tensor with host data. */
    public final void upload(float[] src, Tensor dst) {
        requireF32("upload", "dst", dst);
        if (src.length != dst.size()) {
            throw new IllegalArgumentException("upload: " + src.length + " floats do not fit tensor " + dst);
        }
        uploadKernel(src, dst);
    }

    public final void upload(int[] src, Tensor dst) {
        requireI32("upload", "dst", dst);
        if (src.length != dst.size()) {
            throw new IllegalArgumentException("upload: " + src.length + " ints do not fit tensor " + dst);
        }
        uploadKernel(src, dst);
    }

    /** A host copy of a float tensor. */
    public final float[] toHost(Tensor t) {
        requireF32("toHost", "tensor", t);
        float[] out = new float[t.size()];
        downloadKernel(t, out);
        return out;
    }

    /** A host copy of an int tensor. */
    public final int[] toHostInt(Tensor t) {
        requireI32("toHostInt", "tensor", t);
        int[] out = new int[t.size()];
        downloadKernel(t, out);
        return out;
    }

    /** Releases device storage early; heap backends may ignore it. */
    public void free(Tensor t) {}

    protected abstract void uploadKernel(float[] src, Tensor dst);

    protected abstract void uploadKernel(int[] src, Tensor dst);

    protected abstract void downloadKernel(Tensor src, float[] dst);

    protected abstract void downloadKernel(Tensor src, int[] dst);

    // ------------------------------------------------------------------ data movement

    public final void fill(Tensor x, float value) {
        requireF32("fill", "x", x);
        fillKernel(x, value);
    }

    /** dst[dstOff + i] = src[srcOff + i] for i < count. */
    public final void copy(Tensor src, int srcOff, Tensor dst, int dstOff, int count) {
        requireF32("copy", "src", src);
        requireF32("copy", "dst", dst);
        requireRange("copy", "src", src, srcOff, count);
        requireRange("copy", "dst", dst, dstOff, count);
        copyKernel(src, srcOff, dst, dstOff, count);
    }

    /** Copies a rows x cols block between strided row views (concatenation and splitting of token rows). */
    public final void copyRows(int rows, int cols, RowView src, RowView dst) {
        requireF32("copyRows", "src", src.tensor());
        requireF32("copyRows", "dst", dst.tensor());
        requireView("copyRows", "src", src, rows, cols);
        requireView("copyRows", "dst", dst, rows, cols);
        if (rows == 0 || cols == 0) return;
        copyRowsKernel(rows, cols, src, dst);
    }

    protected abstract void fillKernel(Tensor x, float value);

    protected abstract void copyKernel(Tensor src, int srcOff, Tensor dst, int dstOff, int count);

    protected abstract void copyRowsKernel(int rows, int cols, RowView src, RowView dst);

    // ------------------------------------------------------------------ GEMM

    /**
     * Row-major C = alpha * op(A) * op(B) + beta * C, op(A) is m x k, op(B) is k x n. When transA is set, A is
     * stored k x m (lda >= m); otherwise m x k (lda >= k). Likewise B. With beta == 0, C is not read (NaNs in C
     * do not propagate), as BLAS.
     */
    public final void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                           Tensor a, int offA, int lda, Tensor b, int offB, int ldb,
                           float beta, Tensor c, int offC, int ldc) {
        gemmBatched(transA, transB, m, n, k, alpha, a, offA, lda, 0, b, offB, ldb, 0, beta, c, offC, ldc, 0, 1);
    }

    /** {@link #gemm} repeated over {@code batch} matrices at fixed strides (a stride of 0 reuses the operand). */
    public final void gemmBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                  Tensor a, int offA, int lda, int strideA,
                                  Tensor b, int offB, int ldb, int strideB,
                                  float beta, Tensor c, int offC, int ldc, int strideC, int batch) {
        if (m < 0 || n < 0 || k < 0 || batch < 0) {
            throw new IllegalArgumentException("gemm: sizes must be >= 0, got m=" + m + " n=" + n + " k=" + k + " batch=" + batch);
        }
        requireF32("gemm", "A", a);
        requireF32("gemm", "B", b);
        requireF32("gemm", "C", c);
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        requireMatrix("gemm", "A", a, offA, lda, strideA, aRows, aCols, batch);
        requireMatrix("gemm", "B", b, offB, ldb, strideB, bRows, bCols, batch);
        requireMatrix("gemm", "C", c, offC, ldc, strideC, m, n, batch);
        if (m == 0 || n == 0 || batch == 0) return;
        gemmKernel(transA, transB, m, n, k, alpha, a, offA, lda, strideA, b, offB, ldb, strideB,
                beta, c, offC, ldc, strideC, batch);
    }

    /** C = A * B for whole 2-D tensors: a [m, k], b [k, n], c [m, n]. */
    public final void matmul(Tensor a, Tensor b, Tensor c) {
        int m = a.rows(), k = a.cols(), n = b.cols();
        if (b.rows() != k || c.rows() != m || c.cols() != n) {
            throw new IllegalArgumentException("matmul: shapes " + a + " x " + b + " -> " + c + " do not agree");
        }
        gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
    }

    protected abstract void gemmKernel(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                       Tensor a, int offA, int lda, int strideA,
                                       Tensor b, int offB, int ldb, int strideB,
                                       float beta, Tensor c, int offC, int ldc, int strideC, int batch);

    // ------------------------------------------------------------------ elementwise

    /** out = a + b, elementwise; out may be a or b. */
    public final void add(Tensor a, Tensor b, Tensor out) {
        requireSameSize("add", a, b);
        requireSameSize("add", a, out);
        addKernel(a, b, out);
    }

    /** x *= alpha. */
    public final void scale(Tensor x, float alpha) {
        requireF32("scale", "x", x);
        scaleKernel(x, alpha);
    }

    /** y += alpha * x. */
    public final void axpy(float alpha, Tensor x, Tensor y) {
        requireSameSize("axpy", x, y);
        axpyKernel(alpha, x, y);
    }

    /** x[r, :] += bias for every row; bias has x.cols() elements (or any size dividing x, e.g. a [T, D] pos-embed). */
    public final void addBias(Tensor x, Tensor bias) {
        requireF32("addBias", "x", x);
        requireF32("addBias", "bias", bias);
        requireDivides("addBias", x, bias);
        addBiasKernel(x, bias);
    }

    /** dbias += sum of dy over rows, where a row has dbias.size() elements. */
    public final void biasGrad(Tensor dy, Tensor dbias) {
        requireF32("biasGrad", "dy", dy);
        requireF32("biasGrad", "dbias", dbias);
        requireDivides("biasGrad", dy, dbias);
        biasGradKernel(dy, dbias);
    }

    /**
     * out[r, c] = x[r, c] * gamma[c]: a per-channel scale such as layer scale (CAE, BEiT: {@code gamma_1 * attn(x)}).
     * gamma has x.cols() elements; out may be x.
     */
    public final void scaleColumns(Tensor x, Tensor gamma, Tensor out) {
        requireSameSize("scaleColumns", x, out);
        requireLength("scaleColumns", "gamma", gamma, x.cols());
        scaleColumnsKernel(x, gamma, out);
    }

    /** Backward of {@link #scaleColumns}: dx = dy * gamma (overwritten; may be dy), dgamma += column sums of dy * x. */
    public final void scaleColumnsBackward(Tensor dy, Tensor x, Tensor gamma, Tensor dx, Tensor dgamma) {
        requireSameSize("scaleColumnsBackward", x, dy);
        requireSameSize("scaleColumnsBackward", x, dx);
        requireLength("scaleColumnsBackward", "gamma", gamma, x.cols());
        if (dgamma != null) requireLength("scaleColumnsBackward", "dgamma", dgamma, x.cols());
        scaleColumnsBackwardKernel(dy, x, gamma, dx, dgamma);
    }

    protected abstract void addKernel(Tensor a, Tensor b, Tensor out);

    /**
     * Through host copies, so every backend has it; host-memory backends override it with a loop. dgamma is
     * accumulated before dx is written, so dx may be dy.
     */
    protected void scaleColumnsKernel(Tensor x, Tensor gamma, Tensor out) {
        float[] xs = toHost(x), g = toHost(gamma);
        int n = g.length;
        for (int i = 0; i < xs.length; i++) xs[i] *= g[i % n];
        upload(xs, out);
    }

    protected void scaleColumnsBackwardKernel(Tensor dy, Tensor x, Tensor gamma, Tensor dx, Tensor dgamma) {
        float[] d = toHost(dy), xs = toHost(x), g = toHost(gamma);
        int n = g.length;
        if (dgamma != null) {
            float[] dg = toHost(dgamma);
            double[] acc = new double[n];
            for (int i = 0; i < d.length; i++) acc[i % n] += (double) d[i] * xs[i];
            for (int j = 0; j < n; j++) dg[j] += (float) acc[j];
            upload(dg, dgamma);
        }
        for (int i = 0; i < d.length; i++) d[i] *= g[i % n];
        upload(d, dx);
    }

    protected abstract void scaleKernel(Tensor x, float alpha);

    protected abstract void axpyKernel(float alpha, Tensor x, Tensor y);

    protected abstract void addBiasKernel(Tensor x, Tensor bias);

    protected abstract void biasGradKernel(Tensor dy, Tensor dbias);

    // ------------------------------------------------------------------ normalisation and activations

    /**
     * LayerNorm over the last dimension (torch.nn.LayerNorm): out = (x - mean) * rstd * gamma + beta, with the
     * biased variance. Saves mean and rstd (one per row) for the backward.
     */
    public final void layerNormForward(Tensor x, Tensor gamma, Tensor beta, float eps,
                                       Tensor out, Tensor mean, Tensor rstd) {
        requireNonEmpty("layerNormForward", x);
        requireSameSize("layerNormForward", x, out);
        requireLength("layerNormForward", "gamma", gamma, x.cols());
        requireLength("layerNormForward", "beta", beta, x.cols());
        requireLength("layerNormForward", "mean", mean, x.rows());
        requireLength("layerNormForward", "rstd", rstd, x.rows());
        layerNormForwardKernel(x, gamma, beta, eps, out, mean, rstd);
    }

    /** Writes dx; accumulates dgamma and dbeta. */
    public final void layerNormBackward(Tensor dout, Tensor x, Tensor gamma, Tensor mean, Tensor rstd,
                                        Tensor dx, Tensor dgamma, Tensor dbeta) {
        requireNonEmpty("layerNormBackward", x);
        requireSameSize("layerNormBackward", x, dout);
        requireSameSize("layerNormBackward", x, dx);
        requireLength("layerNormBackward", "gamma", gamma, x.cols());
        requireLength("layerNormBackward", "dgamma", dgamma, x.cols());
        requireLength("layerNormBackward", "dbeta", dbeta, x.cols());
        requireLength("layerNormBackward", "mean", mean, x.rows());
        requireLength("layerNormBackward", "rstd", rstd, x.rows());
        layerNormBackwardKernel(dout, x, gamma, mean, rstd, dx, dgamma, dbeta);
    }

    /** GELU with the exact erf form (torch.nn.GELU default): out = x * Phi(x). out may be x. */
    public final void geluForward(Tensor x, Tensor out) {
        requireSameSize("geluForward", x, out);
        geluForwardKernel(x, out);
    }

    /** dx = dout * GELU'(x). dx may be dout. */
    public final void geluBackward(Tensor x, Tensor dout, Tensor dx) {
        requireSameSize("geluBackward", x, dout);
        requireSameSize("geluBackward", x, dx);
        geluBackwardKernel(x, dout, dx);
    }

    /** Row-wise softmax over the last dimension; out may be x. */
    public final void softmax(Tensor x, Tensor out) {
        requireNonEmpty("softmax", x);
        requireSameSize("softmax", x, out);
        softmaxKernel(x, out);
    }

    protected abstract void layerNormForwardKernel(Tensor x, Tensor gamma, Tensor beta, float eps,
                                                   Tensor out, Tensor mean, Tensor rstd);

    protected abstract void layerNormBackwardKernel(Tensor dout, Tensor x, Tensor gamma, Tensor mean, Tensor rstd,
                                                    Tensor dx, Tensor dgamma, Tensor dbeta);

    protected abstract void geluForwardKernel(Tensor x, Tensor out);

    protected abstract void geluBackwardKernel(Tensor x, Tensor dout, Tensor dx);

    protected abstract void softmaxKernel(Tensor x, Tensor out);

    // ------------------------------------------------------------------ attention

    /**
     * Fused multi-head attention: out = softmax(scale * q kᵀ) v per batch and head (no mask, no dropout, as MAE).
     * Saves the log-sum-exp of each score row in lse [batch, heads, queryLen] so the backward can recompute
     * probabilities without storing them. Works for self-attention (q, k, v views of one qkv buffer) and
     * cross-attention (different key length).
     */
    public final void attentionForward(AttentionShape s, RowView q, RowView k, RowView v, RowView out, Tensor lse) {
        int w = s.width();
        requireView("attentionForward", "q", q, s.batch() * s.queryLen(), w);
        requireView("attentionForward", "k", k, s.batch() * s.keyLen(), w);
        requireView("attentionForward", "v", v, s.batch() * s.keyLen(), w);
        requireView("attentionForward", "out", out, s.batch() * s.queryLen(), w);
        requireLength("attentionForward", "lse", lse, s.batch() * s.heads() * s.queryLen());
        attentionForwardKernel(s, q, k, v, out, lse);
    }

    /** Writes dq, dk and dv (which may be disjoint views of one dqkv buffer). */
    public final void attentionBackward(AttentionShape s, RowView q, RowView k, RowView v, RowView out,
                                        RowView dout, Tensor lse, RowView dq, RowView dk, RowView dv) {
        int w = s.width();
        int nq = s.batch() * s.queryLen(), nk = s.batch() * s.keyLen();
        requireView("attentionBackward", "q", q, nq, w);
        requireView("attentionBackward", "k", k, nk, w);
        requireView("attentionBackward", "v", v, nk, w);
        requireView("attentionBackward", "out", out, nq, w);
        requireView("attentionBackward", "dout", dout, nq, w);
        requireView("attentionBackward", "dq", dq, nq, w);
        requireView("attentionBackward", "dk", dk, nk, w);
        requireView("attentionBackward", "dv", dv, nk, w);
        requireLength("attentionBackward", "lse", lse, s.batch() * s.heads() * s.queryLen());
        attentionBackwardKernel(s, q, k, v, out, dout, lse, dq, dk, dv);
    }

    protected abstract void attentionForwardKernel(AttentionShape s, RowView q, RowView k, RowView v,
                                                   RowView out, Tensor lse);

    protected abstract void attentionBackwardKernel(AttentionShape s, RowView q, RowView k, RowView v, RowView out,
                                                    RowView dout, Tensor lse, RowView dq, RowView dk, RowView dv);

    // ------------------------------------------------------------------ masking: gather / scatter of token rows

    /**
     * dst[b, j, :] = src[b, index[b, j], :]. index is I32 [B, K]; src holds B * L rows and dst B * K rows of
     * the same width. This is MAE's {@code torch.gather} for keeping visible tokens and for unshuffling.
     */
    public final void gatherRows(Tensor src, Tensor index, Tensor dst) {
        int[] bk = requireIndex("gatherRows", index);
        int width = requireRowWidth("gatherRows", dst, bk[0] * bk[1]);
        if (src.size() % (bk[0] * width) != 0) {
            throw new IllegalArgumentException("gatherRows: src " + src + " is not " + bk[0] + " batches of rows of width " + width);
        }
        gatherRowsKernel(src, index, dst, src.size() / (bk[0] * width), width);
    }

    /**
     * dst[b, index[b, j], :] += src[b, j, :]: the backward of {@link #gatherRows}. Indices repeated within a
     * batch accumulate.
     */
    public final void scatterAddRows(Tensor src, Tensor index, Tensor dst) {
        int[] bk = requireIndex("scatterAddRows", index);
        int width = requireRowWidth("scatterAddRows", src, bk[0] * bk[1]);
        if (dst.size() % (bk[0] * width) != 0) {
            throw new IllegalArgumentException("scatterAddRows: dst " + dst + " is not " + bk[0] + " batches of rows of width " + width);
        }
        scatterAddRowsKernel(src, index, dst, dst.size() / (bk[0] * width), width);
    }

    /** srcRows: rows per batch in src (L). Implementations must reject indices outside [0, srcRows). */
    protected abstract void gatherRowsKernel(Tensor src, Tensor index, Tensor dst, int srcRows, int width);

    /** dstRows: rows per batch in dst (L). Implementations must reject indices outside [0, dstRows). */
    protected abstract void scatterAddRowsKernel(Tensor src, Tensor index, Tensor dst, int dstRows, int width);

    /**
     * imgs [B, C, H, W] to patches [B, L, p*p*C] with L = (H/p)*(W/p) in row-major patch order. With
     * channelsLast the features of a patch are ordered (i, j, c), as MAE's {@code patchify} ('nchpwq->nhwpqc');
     * otherwise (c, i, j), the order of a flattened Conv2d weight [D, C, p, p] used by PatchEmbed.
     */
    public final void patchify(Tensor imgs, int patch, boolean channelsLast, Tensor out) {
        requireF32("patchify", "imgs", imgs);
        if (imgs.rank() != 4) throw new IllegalArgumentException("patchify: imgs must be [B, C, H, W], got " + imgs);
        int b = imgs.dim(0), c = imgs.dim(1), h = imgs.dim(2), w = imgs.dim(3);
        if (patch <= 0 || h % patch != 0 || w % patch != 0) {
            throw new IllegalArgumentException("patchify: patch size " + patch + " must divide the image size " + h + "x" + w);
        }
        int l = (h / patch) * (w / patch);
        requireLength("patchify", "out", out, b * l * patch * patch * c);
        patchifyKernel(imgs, patch, channelsLast, out);
    }

    protected abstract void patchifyKernel(Tensor imgs, int patch, boolean channelsLast, Tensor out);

    // ------------------------------------------------------------------ losses

    /**
     * MAE's forward_loss: per patch mean of (pred - target)^2 over the last dimension, then averaged over the
     * patches where mask == 1. With normPix the target is first normalised per patch to
     * (t - mean) / sqrt(var + 1e-6), var unbiased as torch's {@code Tensor.var}. pred/target [B, L, P], mask [B, L].
     */
    public final float maskedMseForward(Tensor pred, Tensor target, Tensor mask, boolean normPix) {
        requireMaskedMse("maskedMseForward", pred, target, mask, normPix);
        return maskedMseForwardKernel(pred, target, mask, normPix);
    }

    /** dpred = dLoss * d(maskedMse)/d(pred); overwrites dpred. */
    public final void maskedMseBackward(Tensor pred, Tensor target, Tensor mask, boolean normPix, float dLoss, Tensor dpred) {
        requireMaskedMse("maskedMseBackward", pred, target, mask, normPix);
        requireSameSize("maskedMseBackward", pred, dpred);
        maskedMseBackwardKernel(pred, target, mask, normPix, dLoss, dpred);
    }

    /**
     * Mean cross-entropy of softmax(logits) against target distributions (one-hot, label-smoothed or mixed):
     * loss = -mean_n sum_c target[n,c] * log softmax(logits)[n,c]. logits and targets [N, C]. When dlogits is
     * non-null it receives the gradient of that mean, (softmax - target) / N.
     */
    public final float softmaxCrossEntropy(Tensor logits, Tensor targets, Tensor dlogits) {
        requireNonEmpty("softmaxCrossEntropy", logits);
        requireSameSize("softmaxCrossEntropy", logits, targets);
        if (dlogits != null) requireSameSize("softmaxCrossEntropy", logits, dlogits);
        return softmaxCrossEntropyKernel(logits, targets, dlogits);
    }

    protected abstract float maskedMseForwardKernel(Tensor pred, Tensor target, Tensor mask, boolean normPix);

    protected abstract void maskedMseBackwardKernel(Tensor pred, Tensor target, Tensor mask, boolean normPix,
                                                    float dLoss, Tensor dpred);

    protected abstract float softmaxCrossEntropyKernel(Tensor logits, Tensor targets, Tensor dlogits);

    // ------------------------------------------------------------------ optimizer and reductions

    /** One torch.optim.AdamW step on one parameter tensor, updating param, m and v in place. */
    public final void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWParams p) {
        requireSameSize("adamw", param, grad);
        requireSameSize("adamw", param, m);
        requireSameSize("adamw", param, v);
        adamwKernel(param, grad, m, v, p);
    }

    /** Sum of all elements. */
    public final float sum(Tensor x) {
        requireF32("sum", "x", x);
        return sumKernel(x);
    }

    /** Sum of squares of all elements (for gradient-norm clipping). */
    public final float sumSquares(Tensor x) {
        requireF32("sumSquares", "x", x);
        return sumSquaresKernel(x);
    }

    protected abstract void adamwKernel(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWParams p);

    protected abstract float sumKernel(Tensor x);

    protected abstract float sumSquaresKernel(Tensor x);

    // ------------------------------------------------------------------ argument checks

    protected static void requireF32(String op, String what, Tensor t) {
        if (t == null) throw new IllegalArgumentException(op + ": " + what + " is null");
        if (t.dtype() != DType.F32) throw new IllegalArgumentException(op + ": " + what + " must be float32, got " + t);
    }

    protected static void requireI32(String op, String what, Tensor t) {
        if (t == null) throw new IllegalArgumentException(op + ": " + what + " is null");
        if (t.dtype() != DType.I32) throw new IllegalArgumentException(op + ": " + what + " must be int32, got " + t);
    }

    private static void requireNonEmpty(String op, Tensor x) {
        requireF32(op, "input", x);
        if (x.size() == 0) throw new IllegalArgumentException(op + ": input " + x + " is empty (a batch needs at least one row)");
    }

    private static void requireSameSize(String op, Tensor a, Tensor b) {
        requireF32(op, "first operand", a);
        requireF32(op, "second operand", b);
        if (a.size() != b.size()) {
            throw new IllegalArgumentException(op + ": operands " + a + " and " + b + " differ in size");
        }
    }

    private static void requireLength(String op, String what, Tensor t, int expected) {
        requireF32(op, what, t);
        if (t.size() != expected) {
            throw new IllegalArgumentException(op + ": " + what + " must have " + expected + " elements, got " + t);
        }
    }

    private static void requireDivides(String op, Tensor x, Tensor part) {
        if (part.size() == 0 || x.size() % part.size() != 0) {
            throw new IllegalArgumentException(op + ": " + part + " does not tile " + x + " (its size must divide the other's)");
        }
    }

    private static void requireRange(String op, String what, Tensor t, int off, int count) {
        if (off < 0 || count < 0 || (long) off + count > t.size()) {
            throw new IllegalArgumentException(op + ": " + what + " range [" + off + ", " + ((long) off + count)
                    + ") is outside " + t);
        }
    }

    private static void requireView(String op, String what, RowView v, int rows, int cols) {
        requireF32(op, what, v.tensor());
        if (cols > v.stride()) {
            throw new IllegalArgumentException(op + ": " + what + " rows of " + cols + " do not fit stride " + v.stride());
        }
        long end = rows == 0 ? 0 : v.offset() + (long) (rows - 1) * v.stride() + cols;
        if (end > v.tensor().size()) {
            throw new IllegalArgumentException(op + ": " + what + " needs " + rows + " rows of " + cols + " at offset "
                    + v.offset() + " stride " + v.stride() + ", beyond " + v.tensor());
        }
    }

    private static void requireMatrix(String op, String what, Tensor t, int off, int ld, int stride,
                                      int rows, int cols, int batch) {
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException(op + ": leading dimension of " + what + " (" + ld + ") is below its "
                    + cols + " columns");
        }
        if (stride < 0) throw new IllegalArgumentException(op + ": negative batch stride for " + what);
        if (rows == 0 || cols == 0 || batch == 0) return;
        long end = off + (long) (batch - 1) * stride + (long) (rows - 1) * ld + cols;
        if (off < 0 || end > t.size()) {
            throw new IllegalArgumentException(op + ": " + what + " (" + rows + "x" + cols + ", ld " + ld + ", offset " + off
                    + ", batch " + batch + " stride " + stride + ") reaches element " + end + " of " + t);
        }
    }

    private static int[] requireIndex(String op, Tensor index) {
        requireI32(op, "index", index);
        if (index.rank() != 2) throw new IllegalArgumentException(op + ": index must be [B, K], got " + index);
        if (index.dim(0) == 0) throw new IllegalArgumentException(op + ": empty batch in index " + index);
        return new int[] {index.dim(0), index.dim(1)};
    }

    private static int requireRowWidth(String op, Tensor t, int rows) {
        requireF32(op, "rows", t);
        if (rows == 0 || t.size() % rows != 0) {
            throw new IllegalArgumentException(op + ": " + t + " does not hold " + rows + " rows");
        }
        return t.size() / rows;
    }

    private static void requireMaskedMse(String op, Tensor pred, Tensor target, Tensor mask, boolean normPix) {
        requireNonEmpty(op, pred);
        requireSameSize(op, pred, target);
        requireF32(op, "mask", mask);
        if (mask.size() == 0 || pred.size() % mask.size() != 0) {
            throw new IllegalArgumentException(op + ": mask " + mask + " does not match pred " + pred);
        }
        if (normPix && pred.size() / mask.size() < 2) {
            throw new IllegalArgumentException(op + ": norm_pix_loss needs at least 2 values per patch (unbiased variance), got "
                    + pred.size() / mask.size());
        }
    }

    protected static String shape(Tensor t) {
        return Shapes.str(t.shape());
    }
}
