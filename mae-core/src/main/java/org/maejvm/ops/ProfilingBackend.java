package org.maejvm.ops;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.maejvm.tensor.Tensor;

/**
 * Another backend with a stopwatch around every kernel: where a training step spends its time, by op (GEMMs by
 * transpose form, batched ones apart). Tensors are the wrapped backend's, so a model built on this backend runs
 * exactly as on the wrapped one. Wall-clock time on the calling thread: for a multi-threaded backend an op's time
 * includes waiting for its workers, which is what shows an op that does not scale.
 */
public final class ProfilingBackend extends Backend {
    /** Calls, nanoseconds and (for matrix products) floating-point operations of one op. */
    public record OpTime(String op, long calls, long nanos, double flops) {
        /** GFLOP/s of a matrix product; NaN for other ops. */
        public double gflops() { return flops > 0 ? flops / nanos : Double.NaN; }
    }

    private final Backend inner;
    private final boolean gemmShapes;
    private final Map<String, long[]> times = new LinkedHashMap<>();
    private final Map<String, double[]> flops = new LinkedHashMap<>();

    /** Times the ops of {@code inner}, GEMMs by transpose form. */
    public ProfilingBackend(Backend inner) {
        this(inner, false);
    }

    /** With {@code gemmShapes}, every GEMM shape (M x K x N) is a row of its own. */
    public ProfilingBackend(Backend inner, boolean gemmShapes) {
        this.inner = inner;
        this.gemmShapes = gemmShapes;
    }

    /** Ops by total time, longest first. */
    public List<OpTime> times() {
        List<OpTime> out = new ArrayList<>();
        times.forEach((op, t) -> out.add(new OpTime(op, t[0], t[1], flops.containsKey(op) ? flops.get(op)[0] : 0)));
        out.sort(Comparator.comparingLong(OpTime::nanos).reversed());
        return out;
    }

    /** Forgets the times so far (after a warm-up). */
    public void reset() {
        times.clear();
        flops.clear();
    }

    private void record(String op, long start) {
        long[] t = times.computeIfAbsent(op, k -> new long[2]);
        t[0]++;
        t[1] += System.nanoTime() - start;
    }

    @Override
    public String name() { return inner.name(); }

    @Override
    public int threads() { return inner.threads(); }

    @Override
    public void close() { inner.close(); }

    @Override
    public Tensor zeros(int... shape) { return inner.zeros(shape); }

    @Override
    public Tensor zerosInt(int... shape) { return inner.zerosInt(shape); }

    @Override
    public void free(Tensor t) { inner.free(t); }

    @Override
    protected void uploadKernel(float[] src, Tensor dst) {
        long t = System.nanoTime();
        inner.uploadKernel(src, dst);
        record("upload", t);
    }

    @Override
    protected void uploadKernel(int[] src, Tensor dst) {
        long t = System.nanoTime();
        inner.uploadKernel(src, dst);
        record("upload", t);
    }

    @Override
    protected void downloadKernel(Tensor src, float[] dst) {
        long t = System.nanoTime();
        inner.downloadKernel(src, dst);
        record("toHost", t);
    }

    @Override
    protected void downloadKernel(Tensor src, int[] dst) {
        long t = System.nanoTime();
        inner.downloadKernel(src, dst);
        record("toHost", t);
    }

    @Override
    protected void fillKernel(Tensor x, float value) {
        long t = System.nanoTime();
        inner.fillKernel(x, value);
        record("fill", t);
    }

    @Override
    protected void copyKernel(Tensor src, int srcOff, Tensor dst, int dstOff, int count) {
        long t = System.nanoTime();
        inner.copyKernel(src, srcOff, dst, dstOff, count);
        record("copy", t);
    }

    @Override
    protected void copyRowsKernel(int rows, int cols, RowView src, RowView dst) {
        long t = System.nanoTime();
        inner.copyRowsKernel(rows, cols, src, dst);
        record("copyRows", t);
    }

    @Override
    protected void gemmKernel(boolean transA, boolean transB, int m, int n, int k, float alpha,
                              Tensor a, int offA, int lda, int strideA,
                              Tensor b, int offB, int ldb, int strideB,
                              float beta, Tensor c, int offC, int ldc, int strideC, int batch) {
        long t = System.nanoTime();
        inner.gemmKernel(transA, transB, m, n, k, alpha, a, offA, lda, strideA, b, offB, ldb, strideB,
                beta, c, offC, ldc, strideC, batch);
        String op = (batch > 1 ? "gemmBatched " : "gemm ") + (transA ? "T" : "N") + (transB ? "T" : "N")
                + (gemmShapes ? " " + m + "x" + k + "x" + n + (batch > 1 ? " x" + batch : "") : "");
        record(op, t);
        flops.computeIfAbsent(op, key -> new double[1])[0] += 2.0 * m * n * k * batch;
    }

    @Override
    protected void addKernel(Tensor a, Tensor b, Tensor out) {
        long t = System.nanoTime();
        inner.addKernel(a, b, out);
        record("add", t);
    }

    @Override
    protected void scaleColumnsKernel(Tensor x, Tensor gamma, Tensor out) {
        long t = System.nanoTime();
        inner.scaleColumnsKernel(x, gamma, out);
        record("scaleColumns", t);
    }

    @Override
    protected void scaleColumnsBackwardKernel(Tensor dy, Tensor x, Tensor gamma, Tensor dx, Tensor dgamma) {
        long t = System.nanoTime();
        inner.scaleColumnsBackwardKernel(dy, x, gamma, dx, dgamma);
        record("scaleColumnsBackward", t);
    }

    @Override
    protected void scaleKernel(Tensor x, float alpha) {
        long t = System.nanoTime();
        inner.scaleKernel(x, alpha);
        record("scale", t);
    }

    @Override
    protected void axpyKernel(float alpha, Tensor x, Tensor y) {
        long t = System.nanoTime();
        inner.axpyKernel(alpha, x, y);
        record("axpy", t);
    }

    @Override
    protected void addBiasKernel(Tensor x, Tensor bias) {
        long t = System.nanoTime();
        inner.addBiasKernel(x, bias);
        record("addBias", t);
    }

    @Override
    protected void biasGradKernel(Tensor dy, Tensor dbias) {
        long t = System.nanoTime();
        inner.biasGradKernel(dy, dbias);
        record("biasGrad", t);
    }

    @Override
    protected void layerNormForwardKernel(Tensor x, Tensor gamma, Tensor beta, float eps,
                                          Tensor out, Tensor mean, Tensor rstd) {
        long t = System.nanoTime();
        inner.layerNormForwardKernel(x, gamma, beta, eps, out, mean, rstd);
        record("layerNormForward", t);
    }

    @Override
    protected void layerNormBackwardKernel(Tensor dout, Tensor x, Tensor gamma, Tensor mean, Tensor rstd,
                                           Tensor dx, Tensor dgamma, Tensor dbeta) {
        long t = System.nanoTime();
        inner.layerNormBackwardKernel(dout, x, gamma, mean, rstd, dx, dgamma, dbeta);
        record("layerNormBackward", t);
    }

    @Override
    protected void geluForwardKernel(Tensor x, Tensor out) {
        long t = System.nanoTime();
        inner.geluForwardKernel(x, out);
        record("geluForward", t);
    }

    @Override
    protected void geluBackwardKernel(Tensor x, Tensor dout, Tensor dx) {
        long t = System.nanoTime();
        inner.geluBackwardKernel(x, dout, dx);
        record("geluBackward", t);
    }

    @Override
    protected void softmaxKernel(Tensor x, Tensor out) {
        long t = System.nanoTime();
        inner.softmaxKernel(x, out);
        record("softmax", t);
    }

    @Override
    protected void attentionForwardKernel(AttentionShape s, RowView q, RowView k, RowView v, RowView out, Tensor lse) {
        long t = System.nanoTime();
        inner.attentionForwardKernel(s, q, k, v, out, lse);
        record("attentionForward", t);
    }

    @Override
    protected void attentionBackwardKernel(AttentionShape s, RowView q, RowView k, RowView v, RowView out,
                                           RowView dout, Tensor lse, RowView dq, RowView dk, RowView dv) {
        long t = System.nanoTime();
        inner.attentionBackwardKernel(s, q, k, v, out, dout, lse, dq, dk, dv);
        record("attentionBackward", t);
    }

    @Override
    protected void gatherRowsKernel(Tensor src, Tensor index, Tensor dst, int srcRows, int width) {
        long t = System.nanoTime();
        inner.gatherRowsKernel(src, index, dst, srcRows, width);
        record("gatherRows", t);
    }

    @Override
    protected void scatterAddRowsKernel(Tensor src, Tensor index, Tensor dst, int dstRows, int width) {
        long t = System.nanoTime();
        inner.scatterAddRowsKernel(src, index, dst, dstRows, width);
        record("scatterAddRows", t);
    }

    @Override
    protected void patchifyKernel(Tensor imgs, int patch, boolean channelsLast, Tensor out) {
        long t = System.nanoTime();
        inner.patchifyKernel(imgs, patch, channelsLast, out);
        record("patchify", t);
    }

    @Override
    protected float maskedMseForwardKernel(Tensor pred, Tensor target, Tensor mask, boolean normPix) {
        long t = System.nanoTime();
        float loss = inner.maskedMseForwardKernel(pred, target, mask, normPix);
        record("maskedMseForward", t);
        return loss;
    }

    @Override
    protected void maskedMseBackwardKernel(Tensor pred, Tensor target, Tensor mask, boolean normPix,
                                           float dLoss, Tensor dpred) {
        long t = System.nanoTime();
        inner.maskedMseBackwardKernel(pred, target, mask, normPix, dLoss, dpred);
        record("maskedMseBackward", t);
    }

    @Override
    protected float softmaxCrossEntropyKernel(Tensor logits, Tensor targets, Tensor dlogits) {
        long t = System.nanoTime();
        float loss = inner.softmaxCrossEntropyKernel(logits, targets, dlogits);
        record("softmaxCrossEntropy", t);
        return loss;
    }

    @Override
    protected void adamwKernel(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWParams p) {
        long t = System.nanoTime();
        inner.adamwKernel(param, grad, m, v, p);
        record("adamw", t);
    }

    @Override
    protected float sumKernel(Tensor x) {
        long t = System.nanoTime();
        float s = inner.sumKernel(x);
        record("sum", t);
        return s;
    }

    @Override
    protected float sumSquaresKernel(Tensor x) {
        long t = System.nanoTime();
        float s = inner.sumSquaresKernel(x);
        record("sumSquares", t);
        return s;
    }
}
