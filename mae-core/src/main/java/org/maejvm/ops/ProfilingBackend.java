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

    private void timed(String op, Runnable kernel) {
        long t = System.nanoTime();
        kernel.run();
        record(op, t);
    }

    private float timed(String op, FloatKernel kernel) {
        long t = System.nanoTime();
        float result = kernel.run();
        record(op, t);
        return result;
    }

    /** A kernel that returns a scalar (a loss, a sum). */
    private interface FloatKernel {
        float run();
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
        timed("upload", () -> inner.uploadKernel(src, dst));
    }

    @Override
    protected void uploadKernel(int[] src, Tensor dst) {
        timed("upload", () -> inner.uploadKernel(src, dst));
    }

    @Override
    protected void downloadKernel(Tensor src, float[] dst) {
        timed("toHost", () -> inner.downloadKernel(src, dst));
    }

    @Override
    protected void downloadKernel(Tensor src, int[] dst) {
        timed("toHost", () -> inner.downloadKernel(src, dst));
    }

    @Override
    protected void fillKernel(Tensor x, float value) {
        timed("fill", () -> inner.fillKernel(x, value));
    }

    @Override
    protected void copyKernel(Tensor src, int srcOff, Tensor dst, int dstOff, int count) {
        timed("copy", () -> inner.copyKernel(src, srcOff, dst, dstOff, count));
    }

    @Override
    protected void copyRowsKernel(int rows, int cols, RowView src, RowView dst) {
        timed("copyRows", () -> inner.copyRowsKernel(rows, cols, src, dst));
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
        timed("add", () -> inner.addKernel(a, b, out));
    }

    @Override
    protected void scaleColumnsKernel(Tensor x, Tensor gamma, Tensor out) {
        timed("scaleColumns", () -> inner.scaleColumnsKernel(x, gamma, out));
    }

    @Override
    protected void scaleColumnsBackwardKernel(Tensor dy, Tensor x, Tensor gamma, Tensor dx, Tensor dgamma) {
        timed("scaleColumnsBackward", () -> inner.scaleColumnsBackwardKernel(dy, x, gamma, dx, dgamma));
    }

    @Override
    protected void scaleKernel(Tensor x, float alpha) {
        timed("scale", () -> inner.scaleKernel(x, alpha));
    }

    @Override
    protected void axpyKernel(float alpha, Tensor x, Tensor y) {
        timed("axpy", () -> inner.axpyKernel(alpha, x, y));
    }

    @Override
    protected void addBiasKernel(Tensor x, Tensor bias) {
        timed("addBias", () -> inner.addBiasKernel(x, bias));
    }

    @Override
    protected void biasGradKernel(Tensor dy, Tensor dbias) {
        timed("biasGrad", () -> inner.biasGradKernel(dy, dbias));
    }

    @Override
    protected void layerNormForwardKernel(Tensor x, Tensor gamma, Tensor beta, float eps,
                                          Tensor out, Tensor mean, Tensor rstd) {
        timed("layerNormForward", () -> inner.layerNormForwardKernel(x, gamma, beta, eps, out, mean, rstd));
    }

    @Override
    protected void layerNormBackwardKernel(Tensor dout, Tensor x, Tensor gamma, Tensor mean, Tensor rstd,
                                           Tensor dx, Tensor dgamma, Tensor dbeta) {
        timed("layerNormBackward", () -> inner.layerNormBackwardKernel(dout, x, gamma, mean, rstd, dx, dgamma, dbeta));
    }

    @Override
    protected void geluForwardKernel(Tensor x, Tensor out) {
        timed("geluForward", () -> inner.geluForwardKernel(x, out));
    }

    @Override
    protected void geluBackwardKernel(Tensor x, Tensor dout, Tensor dx) {
        timed("geluBackward", () -> inner.geluBackwardKernel(x, dout, dx));
    }

    @Override
    protected void softmaxKernel(Tensor x, Tensor out) {
        timed("softmax", () -> inner.softmaxKernel(x, out));
    }

    @Override
    protected void attentionForwardKernel(AttentionShape s, RowView q, RowView k, RowView v, RowView out, Tensor lse) {
        timed("attentionForward", () -> inner.attentionForwardKernel(s, q, k, v, out, lse));
    }

    @Override
    protected void attentionBackwardKernel(AttentionShape s, RowView q, RowView k, RowView v, RowView out,
                                           RowView dout, Tensor lse, RowView dq, RowView dk, RowView dv) {
        timed("attentionBackward", () -> inner.attentionBackwardKernel(s, q, k, v, out, dout, lse, dq, dk, dv));
    }

    @Override
    protected void gatherRowsKernel(Tensor src, Tensor index, Tensor dst, int srcRows, int width) {
        timed("gatherRows", () -> inner.gatherRowsKernel(src, index, dst, srcRows, width));
    }

    @Override
    protected void scatterAddRowsKernel(Tensor src, Tensor index, Tensor dst, int dstRows, int width) {
        timed("scatterAddRows", () -> inner.scatterAddRowsKernel(src, index, dst, dstRows, width));
    }

    @Override
    protected void patchifyKernel(Tensor imgs, int patch, boolean channelsLast, Tensor out) {
        timed("patchify", () -> inner.patchifyKernel(imgs, patch, channelsLast, out));
    }

    @Override
    protected float maskedMseForwardKernel(Tensor pred, Tensor target, Tensor mask, boolean normPix) {
        return timed("maskedMseForward", () -> inner.maskedMseForwardKernel(pred, target, mask, normPix));
    }

    @Override
    protected void maskedMseBackwardKernel(Tensor pred, Tensor target, Tensor mask, boolean normPix,
                                           float dLoss, Tensor dpred) {
        timed("maskedMseBackward", () -> inner.maskedMseBackwardKernel(pred, target, mask, normPix, dLoss, dpred));
    }

    @Override
    protected float softmaxCrossEntropyKernel(Tensor logits, Tensor targets, Tensor dlogits) {
        return timed("softmaxCrossEntropy", () -> inner.softmaxCrossEntropyKernel(logits, targets, dlogits));
    }

    @Override
    protected void adamwKernel(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWParams p) {
        timed("adamw", () -> inner.adamwKernel(param, grad, m, v, p));
    }

    @Override
    protected float sumKernel(Tensor x) {
        return timed("sum", () -> inner.sumKernel(x));
    }

    @Override
    protected float sumSquaresKernel(Tensor x) {
        return timed("sumSquares", () -> inner.sumSquaresKernel(x));
    }
}
