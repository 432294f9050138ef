package org.maejvm.simd;

import static org.maejvm.tensor.HostTensor.floats;
import static org.maejvm.tensor.HostTensor.ints;

import org.maejvm.ops.AdamWParams;
import org.maejvm.ops.AttentionShape;
import org.maejvm.ops.HostBackend;
import org.maejvm.ops.RowView;
import org.maejvm.tensor.Tensor;

/**
 * The CPU backend on the Vector API, multi-threaded over a {@link ThreadPool}.
 *
 * <p>Each kernel splits its rows (or elements) into ranges with {@link SimdParallel} and runs a vectorised
 * routine from one of the kernel classes on each range. Reductions keep one partial per range and combine the
 * partials in range order. Storage, fill and copies are {@link HostBackend}'s (heap arrays, arraycopy).
 */
public final class SimdBackend extends HostBackend {
    private final ThreadPool pool;

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

    // ------------------------------------------------------------------ GEMM

    @Override
    protected void gemmKernel(boolean transA, boolean transB, int m, int n, int k, float alpha,
                              Tensor a, int offA, int lda, int strideA, Tensor b, int offB, int ldb, int strideB,
                              float beta, Tensor c, int offC, int ldc, int strideC, int batch) {
        SimdGemm.gemm(pool, transA, transB, m, n, k, alpha, floats(a), offA, lda, strideA, floats(b), offB, ldb, strideB,
                beta, floats(c), offC, ldc, strideC, batch);
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    protected void addKernel(Tensor a, Tensor b, Tensor out) {
        float[] x = floats(a), y = floats(b), o = floats(out);
        SimdParallel.runElements(pool, o.length, 1, (t, from, to) -> SimdElementwise.add(x, y, o, from, to));
    }

    @Override
    protected void scaleKernel(Tensor x, float alpha) {
        float[] d = floats(x);
        SimdParallel.runElements(pool, d.length, 1, (t, from, to) -> SimdElementwise.scale(d, alpha, from, to));
    }

    @Override
    protected void axpyKernel(float alpha, Tensor x, Tensor y) {
        float[] xs = floats(x), ys = floats(y);
        SimdParallel.runElements(pool, ys.length, 1, (t, from, to) -> SimdElementwise.axpy(alpha, xs, ys, from, to));
    }

    @Override
    protected void addBiasKernel(Tensor x, Tensor bias) {
        float[] d = floats(x), bs = floats(bias);
        int rows = d.length / bs.length;
        SimdParallel.run(pool, rows, bs.length, (t, from, to) -> SimdElementwise.addBias(d, bs, from, to));
    }

    @Override
    protected void biasGradKernel(Tensor dy, Tensor dbias) {
        float[] g = floats(dy), db = floats(dbias);
        int n = db.length, rows = g.length / n;
        int tasks = SimdParallel.tasks(pool, rows, n);
        float[][] parts = new float[tasks][n];
        SimdParallel.run(pool, rows, tasks, (t, from, to) ->
                SimdElementwise.columnSums(g, parts[t], new float[n], from, to));
        for (float[] part : parts) SimdElementwise.addRowInto(part, 0, db, n);
    }

    // ------------------------------------------------------------------ normalisation and activations

    @Override
    protected void layerNormForwardKernel(Tensor x, Tensor gamma, Tensor beta, float eps,
                                          Tensor out, Tensor mean, Tensor rstd) {
        float[] in = floats(x), g = floats(gamma), bt = floats(beta), o = floats(out), mu = floats(mean), rs = floats(rstd);
        int n = x.cols();
        SimdParallel.run(pool, x.rows(), 4L * n, (t, from, to) ->
                SimdNorm.forward(in, g, bt, eps, o, mu, rs, n, from, to));
    }

    @Override
    protected void layerNormBackwardKernel(Tensor dout, Tensor x, Tensor gamma, Tensor mean, Tensor rstd,
                                           Tensor dx, Tensor dgamma, Tensor dbeta) {
        float[] dy = floats(dout), in = floats(x), g = floats(gamma), mu = floats(mean), rs = floats(rstd);
        float[] dxs = floats(dx), dg = floats(dgamma), db = floats(dbeta);
        int n = x.cols(), rows = x.rows();
        int tasks = SimdParallel.tasks(pool, rows, 8L * n);
        float[][] dgParts = new float[tasks][n], dbParts = new float[tasks][n];
        SimdParallel.run(pool, rows, tasks, (t, from, to) ->
                SimdNorm.backward(dy, in, g, mu, rs, dxs, dgParts[t], dbParts[t], new float[n], new float[n], n, from, to));
        for (int t = 0; t < tasks; t++) {
            SimdElementwise.addRowInto(dgParts[t], 0, dg, n);
            SimdElementwise.addRowInto(dbParts[t], 0, db, n);
        }
    }

    @Override
    protected void geluForwardKernel(Tensor x, Tensor out) {
        float[] in = floats(x), o = floats(out);
        SimdParallel.runElements(pool, o.length, 24, (t, from, to) -> SimdActivations.geluForward(in, o, from, to));
    }

    @Override
    protected void geluBackwardKernel(Tensor x, Tensor dout, Tensor dx) {
        float[] in = floats(x), dy = floats(dout), o = floats(dx);
        SimdParallel.runElements(pool, o.length, 32, (t, from, to) -> SimdActivations.geluBackward(in, dy, o, from, to));
    }

    @Override
    protected void softmaxKernel(Tensor x, Tensor out) {
        float[] in = floats(x), o = floats(out);
        int n = x.cols();
        SimdParallel.run(pool, x.rows(), 16L * n, (t, from, to) -> SimdActivations.softmaxRows(in, o, n, from, to));
    }

    // ------------------------------------------------------------------ attention

    @Override
    protected void attentionForwardKernel(AttentionShape s, RowView q, RowView k, RowView v, RowView out, Tensor lse) {
        SimdAttention.forward(pool, s, q, k, v, out, floats(lse));
    }

    @Override
    protected void attentionBackwardKernel(AttentionShape s, RowView q, RowView k, RowView v, RowView out,
                                           RowView dout, Tensor lse, RowView dq, RowView dk, RowView dv) {
        SimdAttention.backward(pool, s, q, k, v, out, dout, floats(lse), dq, dk, dv);
    }

    // ------------------------------------------------------------------ masking

    @Override
    protected void gatherRowsKernel(Tensor src, Tensor index, Tensor dst, int srcRows, int width) {
        float[] s = floats(src), d = floats(dst);
        int[] idx = ints(index);
        int batch = index.dim(0), kept = index.dim(1);
        SimdMasking.checkIndices("gatherRows", idx, batch, kept, srcRows);
        SimdParallel.run(pool, batch * kept, width, (t, from, to) ->
                SimdMasking.gather(s, idx, d, kept, srcRows, width, from, to));
    }

    @Override
    protected void scatterAddRowsKernel(Tensor src, Tensor index, Tensor dst, int dstRows, int width) {
        float[] s = floats(src), d = floats(dst);
        int[] idx = ints(index);
        int batch = index.dim(0), kept = index.dim(1);
        SimdMasking.checkIndices("scatterAddRows", idx, batch, kept, dstRows);
        // parallel over batches only: rows of one batch may repeat an index and must add in order
        SimdParallel.run(pool, batch, (long) kept * width, (t, from, to) ->
                SimdMasking.scatterAdd(s, idx, d, kept, dstRows, width, from, to));
    }

    @Override
    protected void patchifyKernel(Tensor imgs, int patch, boolean channelsLast, Tensor out) {
        float[] in = floats(imgs), o = floats(out);
        int b = imgs.dim(0), c = imgs.dim(1), h = imgs.dim(2), w = imgs.dim(3);
        SimdParallel.run(pool, b * (h / patch), (long) c * patch * w, (t, from, to) ->
                SimdMasking.patchify(in, o, c, h, w, patch, channelsLast, from, to));
    }

    // ------------------------------------------------------------------ losses

    @Override
    protected float maskedMseForwardKernel(Tensor pred, Tensor target, Tensor mask, boolean normPix) {
        float[] pr = floats(pred), tg = floats(target), mk = floats(mask);
        int rows = mk.length, pd = pr.length / rows;
        int tasks = SimdParallel.tasks(pool, rows, 6L * pd);
        double[][] parts = new double[tasks][];
        SimdParallel.run(pool, rows, tasks, (t, from, to) ->
                parts[t] = SimdLosses.maskedMseParts(pr, tg, mk, pd, normPix, from, to));
        double num = 0, den = 0;
        for (double[] part : parts) {
            num += part[0];
            den += part[1];
        }
        return (float) (num / den);
    }

    @Override
    protected void maskedMseBackwardKernel(Tensor pred, Tensor target, Tensor mask, boolean normPix,
                                           float dLoss, Tensor dpred) {
        float[] pr = floats(pred), tg = floats(target), mk = floats(mask), g = floats(dpred);
        int rows = mk.length, pd = pr.length / rows;
        double maskSum = 0;
        for (float m : mk) maskSum += m;
        double den = maskSum;
        SimdParallel.run(pool, rows, 6L * pd, (t, from, to) ->
                SimdLosses.maskedMseBackward(pr, tg, mk, pd, normPix, dLoss, den, g, from, to));
    }

    @Override
    protected float softmaxCrossEntropyKernel(Tensor logits, Tensor targets, Tensor dlogits) {
        float[] z = floats(logits), y = floats(targets);
        float[] g = dlogits == null ? null : floats(dlogits);
        int c = logits.cols(), n = logits.rows();
        int tasks = SimdParallel.tasks(pool, n, 24L * c);
        double[] parts = new double[tasks];
        SimdParallel.run(pool, n, tasks, (t, from, to) -> parts[t] = SimdLosses.crossEntropyRows(z, y, g, c, n, from, to));
        double loss = 0;
        for (double part : parts) loss += part;
        return (float) (loss / n);
    }

    // ------------------------------------------------------------------ optimizer and reductions

    @Override
    protected void adamwKernel(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWParams p) {
        float[] w = floats(param), g = floats(grad), ms = floats(m), vs = floats(v);
        SimdParallel.runElements(pool, w.length, 12, (t, from, to) -> SimdOptim.adamw(w, g, ms, vs, p, from, to));
    }

    @Override
    protected float sumKernel(Tensor x) {
        float[] d = floats(x);
        return (float) reduce(d, false);
    }

    @Override
    protected float sumSquaresKernel(Tensor x) {
        float[] d = floats(x);
        return (float) reduce(d, true);
    }

    private double reduce(float[] d, boolean squares) {
        int tasks = SimdParallel.tasks(pool, d.length, 1);
        double[] parts = new double[tasks];
        SimdParallel.run(pool, d.length, tasks, SimdParallel.ELEMENT_ALIGN, (t, from, to) ->
                parts[t] = squares ? SimdElementwise.sumSquares(d, from, to) : SimdElementwise.sum(d, from, to));
        double total = 0;
        for (double part : parts) total += part;
        return total;
    }
}
