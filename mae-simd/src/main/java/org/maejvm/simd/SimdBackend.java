package org.maejvm.simd;

import static org.maejvm.tensor.HostTensor.floats;

import org.maejvm.ops.AdamWParams;
import org.maejvm.ops.AttentionShape;
import org.maejvm.ops.HostBackend;
import org.maejvm.ops.ReferenceBackend;
import org.maejvm.ops.RowView;
import org.maejvm.tensor.Tensor;

/**
 * The CPU backend on the Vector API, multi-threaded over a {@link ThreadPool}.
 * SKELETON: ops not yet vectorised delegate to the reference backend.
 */
public final class SimdBackend extends HostBackend {
    private final ThreadPool pool;
    private final ReferenceBackend reference = new ReferenceBackend();

    /** A backend using every available processor. */
    public SimdBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    public SimdBackend(int threads) {
        this.pool = new ThreadPool(threads);
    }

    @Override
    public String name() { return "simd"; }

    @Override
    public int threads() { return pool.threads(); }

    @Override
    public void close() { pool.close(); }

    @Override
    protected void gemmKernel(boolean transA, boolean transB, int m, int n, int k, float alpha,
                              Tensor a, int offA, int lda, int strideA, Tensor b, int offB, int ldb, int strideB,
                              float beta, Tensor c, int offC, int ldc, int strideC, int batch) {
        SimdGemm.gemm(pool, transA, transB, m, n, k, alpha, floats(a), offA, lda, strideA, floats(b), offB, ldb, strideB,
                beta, floats(c), offC, ldc, strideC, batch);
    }

    @Override
    protected void addKernel(Tensor a, Tensor b, Tensor out) {
        reference.add(a, b, out);
    }

    @Override
    protected void scaleKernel(Tensor x, float alpha) {
        reference.scale(x, alpha);
    }

    @Override
    protected void axpyKernel(float alpha, Tensor x, Tensor y) {
        reference.axpy(alpha, x, y);
    }

    @Override
    protected void addBiasKernel(Tensor x, Tensor bias) {
        reference.addBias(x, bias);
    }

    @Override
    protected void biasGradKernel(Tensor dy, Tensor dbias) {
        reference.biasGrad(dy, dbias);
    }

    @Override
    protected void layerNormForwardKernel(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor out, Tensor mean, Tensor rstd) {
        reference.layerNormForward(x, gamma, beta, eps, out, mean, rstd);
    }

    @Override
    protected void layerNormBackwardKernel(Tensor dout, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dx, Tensor dgamma, Tensor dbeta) {
        reference.layerNormBackward(dout, x, gamma, mean, rstd, dx, dgamma, dbeta);
    }

    @Override
    protected void geluForwardKernel(Tensor x, Tensor out) {
        reference.geluForward(x, out);
    }

    @Override
    protected void geluBackwardKernel(Tensor x, Tensor dout, Tensor dx) {
        reference.geluBackward(x, dout, dx);
    }

    @Override
    protected void softmaxKernel(Tensor x, Tensor out) {
        reference.softmax(x, out);
    }

    @Override
    protected void attentionForwardKernel(AttentionShape s, RowView q, RowView k, RowView v, RowView out, Tensor lse) {
        reference.attentionForward(s, q, k, v, out, lse);
    }

    @Override
    protected void attentionBackwardKernel(AttentionShape s, RowView q, RowView k, RowView v, RowView out, RowView dout, Tensor lse, RowView dq, RowView dk, RowView dv) {
        reference.attentionBackward(s, q, k, v, out, dout, lse, dq, dk, dv);
    }

    @Override
    protected void gatherRowsKernel(Tensor src, Tensor index, Tensor dst, int srcRows, int width) {
        reference.gatherRows(src, index, dst);
    }

    @Override
    protected void scatterAddRowsKernel(Tensor src, Tensor index, Tensor dst, int dstRows, int width) {
        reference.scatterAddRows(src, index, dst);
    }

    @Override
    protected void patchifyKernel(Tensor imgs, int patch, boolean channelsLast, Tensor out) {
        reference.patchify(imgs, patch, channelsLast, out);
    }

    @Override
    protected float maskedMseForwardKernel(Tensor pred, Tensor target, Tensor mask, boolean normPix) {
        return reference.maskedMseForward(pred, target, mask, normPix);
    }

    @Override
    protected void maskedMseBackwardKernel(Tensor pred, Tensor target, Tensor mask, boolean normPix, float dLoss, Tensor dpred) {
        reference.maskedMseBackward(pred, target, mask, normPix, dLoss, dpred);
    }

    @Override
    protected float softmaxCrossEntropyKernel(Tensor logits, Tensor targets, Tensor dlogits) {
        return reference.softmaxCrossEntropy(logits, targets, dlogits);
    }

    @Override
    protected void adamwKernel(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWParams p) {
        reference.adamw(param, grad, m, v, p);
    }

    @Override
    protected float sumKernel(Tensor x) {
        return reference.sum(x);
    }

    @Override
    protected float sumSquaresKernel(Tensor x) {
        return reference.sumSquares(x);
    }
}
