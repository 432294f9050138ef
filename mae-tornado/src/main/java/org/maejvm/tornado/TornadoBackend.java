package org.maejvm.tornado;

import static org.maejvm.tornado.KernelPlans.key;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.maejvm.ops.AdamWParams;
import org.maejvm.ops.AttentionShape;
import org.maejvm.ops.Backend;
import org.maejvm.ops.RowView;
import org.maejvm.tensor.Tensor;
import org.maejvm.tornado.kernels.AttentionKernels;
import org.maejvm.tornado.kernels.ElementwiseKernels;
import org.maejvm.tornado.kernels.GemmKernels;
import org.maejvm.tornado.kernels.ReductionKernels;
import org.maejvm.tornado.kernels.RowKernels;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.WorkerGrid2D;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The TornadoVM backend: every op of the SPI as Java kernels (org.maejvm.tornado.kernels) that TornadoVM
 * compiles for a GPU (or an OpenCL CPU driver). Tensors live in TornadoVM arrays kept on the device; each
 * distinct kernel call becomes a task graph built once and reused ({@link KernelPlans}), so a training loop,
 * which calls the same ops on the same buffers every step, builds its graphs in the first step only.
 *
 * <p>Users get it through {@code Backends.create("tornado", 0)} (device 0) or {@link TornadoDevices#open(int)},
 * which say clearly when TornadoVM is missing; it needs the TornadoVM runtime and its JVM flags (docs/TORNADO.md).
 * Without the TornadoVM API on the class path this class does not even link, so code that may run without it
 * reaches the backend through those two entry points only.
 */
public final class TornadoBackend extends Backend {
    private final KernelPlans plans;
    private final String deviceName;

    /** The backend on TornadoVM's device number {@code device}, counted over all its backends (see {@code mae devices}). */
    public TornadoBackend(int device) {
        this(TornadoDevices.select(device));
    }

    TornadoBackend(TornadoDevice device) {
        this.plans = new KernelPlans(device);
        this.deviceName = device == null ? "default device" : TornadoDevices.hardwareName(device);
    }

    @Override
    public String name() { return "tornado"; }

    /** The device this backend computes on, as TornadoVM names it. */
    public String deviceName() { return deviceName; }

    /** Task graphs built so far: stays constant once a training loop has run its first step. */
    public long graphsBuilt() { return plans.graphsBuilt(); }

    @Override
    public void close() { plans.close(); }

    // ------------------------------------------------------------------ storage

    // The host copy of a tensor is the current one (KernelPlans): uploads and downloads are host copies.

    @Override
    public Tensor zeros(int... shape) {
        return TornadoTensor.zeros(shape);
    }

    @Override
    public Tensor zerosInt(int... shape) {
        return TornadoTensor.zerosInt(shape);
    }

    @Override
    public void free(Tensor t) {
        plans.forget(tt(t).buffer());
    }

    @Override
    protected void uploadKernel(float[] src, Tensor dst) {
        FloatArray a = f(dst);
        MemorySegment.copy(src, 0, a.getSegment(), ValueLayout.JAVA_FLOAT, 0, src.length);
    }

    @Override
    protected void uploadKernel(int[] src, Tensor dst) {
        TornadoTensor t = tt(dst);
        System.arraycopy(src, 0, t.hostInts, 0, src.length);
        MemorySegment.copy(src, 0, t.ints.getSegment(), ValueLayout.JAVA_INT, 0, src.length);
    }

    @Override
    protected void downloadKernel(Tensor src, float[] dst) {
        FloatArray a = f(src);
        MemorySegment.copy(a.getSegment(), ValueLayout.JAVA_FLOAT, 0, dst, 0, dst.length);
    }

    @Override
    protected void downloadKernel(Tensor src, int[] dst) {
        // int tensors are written only by the host, whose copy is current
        System.arraycopy(tt(src).hostInts, 0, dst, 0, dst.length);
    }

    // ------------------------------------------------------------------ data movement

    @Override
    protected void fillKernel(Tensor x, float value) {
        FloatArray a = f(x);
        int n = x.size();
        if (n == 0) return;
        plans.run(key("fill", a, value, n), b -> b.graph().task("fill", ElementwiseKernels::fill, a, value, n));
    }

    @Override
    protected void copyKernel(Tensor src, int srcOff, Tensor dst, int dstOff, int count) {
        if (count == 0) return;
        FloatArray s = f(src), d = f(dst);
        plans.run(key("copy", s, srcOff, d, dstOff, count), b -> {
            b.partialOutput(d);
            b.graph().task("copy", ElementwiseKernels::copy, s, srcOff, d, dstOff, count);
        });
    }

    @Override
    protected void copyRowsKernel(int rows, int cols, RowView src, RowView dst) {
        FloatArray s = f(src.tensor()), d = f(dst.tensor());
        plans.run(key("copyRows", s, d, rows, cols, src.offset(), src.stride(), dst.offset(), dst.stride()), b -> {
            IntArray p = b.ints(rows, cols, src.offset(), src.stride(), dst.offset(), dst.stride());
            b.partialOutput(d);
            b.graph().task("copyRows", ElementwiseKernels::copyRows, s, d, p);
        });
    }

    // ------------------------------------------------------------------ GEMM

    @Override
    protected void gemmKernel(boolean transA, boolean transB, int m, int n, int k, float alpha,
                              Tensor a, int offA, int lda, int strideA, Tensor b, int offB, int ldb, int strideB,
                              float beta, Tensor c, int offC, int ldc, int strideC, int batch) {
        FloatArray fa = f(a), fb = f(b), fc = f(c);
        int tile = GemmKernels.TILE;
        int rowTiles = ceilDiv(m, tile);
        plans.run(key("gemm", fa, fb, fc, transA, transB, m, n, k, alpha, offA, lda, strideA, offB, ldb, strideB,
                beta, offC, ldc, strideC, batch), pb -> {
            IntArray p = pb.ints(m, n, k, transA ? 1 : 0, transB ? 1 : 0, offA, lda, strideA, offB, ldb, strideB,
                    offC, ldc, strideC, rowTiles);
            pb.graph().task("gemm", GemmKernels::gemm, new KernelContext(), fa, fb, fc, p, alpha, beta);
            pb.grid("gemm", grid2(ceilDiv(n, tile) * tile, rowTiles * tile * batch, tile, tile));
        });
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    protected void addKernel(Tensor a, Tensor b, Tensor out) {
        FloatArray fa = f(a), fb = f(b), fo = f(out);
        int n = out.size();
        if (n == 0) return;
        plans.run(key("add", fa, fb, fo, n), p -> p.graph().task("add", ElementwiseKernels::add, fa, fb, fo, n));
    }

    @Override
    protected void scaleKernel(Tensor x, float alpha) {
        FloatArray fx = f(x);
        int n = x.size();
        if (n == 0) return;
        plans.run(key("scale", fx, alpha, n), p -> p.graph().task("scale", ElementwiseKernels::scale, fx, alpha, n));
    }

    @Override
    protected void axpyKernel(float alpha, Tensor x, Tensor y) {
        FloatArray fx = f(x), fy = f(y);
        int n = y.size();
        if (n == 0) return;
        plans.run(key("axpy", alpha, fx, fy, n), p -> p.graph().task("axpy", ElementwiseKernels::axpy, alpha, fx, fy, n));
    }

    @Override
    protected void addBiasKernel(Tensor x, Tensor bias) {
        FloatArray fx = f(x), fb = f(bias);
        int n = x.size(), nb = bias.size();
        if (n == 0) return;
        plans.run(key("addBias", fx, fb, n, nb), p -> p.graph().task("addBias", ElementwiseKernels::addBias, fx, fb, n, nb));
    }

    @Override
    protected void biasGradKernel(Tensor dy, Tensor dbias) {
        FloatArray g = f(dy), db = f(dbias);
        int n = dbias.size(), rows = dy.size() / n;
        if (rows == 0) return;
        plans.run(key("biasGrad", g, db, rows, n), p -> {
            p.graph().task("columns", ReductionKernels::columnSums, new KernelContext(), g, db, rows, n);
            p.grid("columns", grid1(n * ReductionKernels.COLUMN_GROUP, ReductionKernels.COLUMN_GROUP));
        });
    }

    @Override
    protected void scaleColumnsKernel(Tensor x, Tensor gamma, Tensor out) {
        FloatArray fx = f(x), g = f(gamma), o = f(out);
        int n = x.size(), cols = gamma.size();
        if (n == 0) return;
        plans.run(key("scaleColumns", fx, g, o, n, cols),
                p -> p.graph().task("scale", ElementwiseKernels::scaleColumns, fx, g, o, n, cols));
    }

    @Override
    protected void scaleColumnsBackwardKernel(Tensor dy, Tensor x, Tensor gamma, Tensor dx, Tensor dgamma) {
        FloatArray d = f(dy), fx = f(x), g = f(gamma), out = f(dx);
        FloatArray dg = dgamma == null ? null : f(dgamma);
        int n = x.size(), cols = gamma.size(), rows = cols == 0 ? 0 : n / cols;
        if (n == 0) return;
        plans.run(key("scaleColumnsBackward", d, fx, g, out, dg == null ? "no-dgamma" : dg, n, cols), p -> {
            // dgamma first: dx may be dy, which the second task overwrites
            if (dg != null) {
                p.graph().task("dgamma", ReductionKernels::columnProductSums, new KernelContext(), d, fx, dg, rows, cols);
                p.grid("dgamma", grid1(cols * ReductionKernels.COLUMN_GROUP, ReductionKernels.COLUMN_GROUP));
            }
            p.graph().task("dx", ElementwiseKernels::scaleColumns, d, g, out, n, cols);
        });
    }

    // ------------------------------------------------------------------ normalisation and activations

    @Override
    protected void layerNormForwardKernel(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor out, Tensor mean, Tensor rstd) {
        FloatArray fx = f(x), g = f(gamma), bt = f(beta), o = f(out), mu = f(mean), rs = f(rstd);
        int n = x.cols(), rows = x.rows();
        plans.run(key("layerNormForward", fx, g, bt, o, mu, rs, n, rows, eps), p -> {
            p.graph().task("rows", RowKernels::layerNormForward, new KernelContext(), fx, g, bt, o, mu, rs, n, eps);
            p.grid("rows", grid1(rows * RowKernels.GROUP, RowKernels.GROUP));
        });
    }

    @Override
    protected void layerNormBackwardKernel(Tensor dout, Tensor x, Tensor gamma, Tensor mean, Tensor rstd,
                                           Tensor dx, Tensor dgamma, Tensor dbeta) {
        FloatArray dy = f(dout), fx = f(x), g = f(gamma), mu = f(mean), rs = f(rstd), d = f(dx), dg = f(dgamma), db = f(dbeta);
        int n = x.cols(), rows = x.rows();
        plans.run(key("layerNormBackward", dy, fx, g, mu, rs, d, dg, db, n, rows), p -> {
            // parameter gradients first: dx may be dout, which the second task overwrites
            p.graph().task("params", ReductionKernels::layerNormParamGrads, new KernelContext(), dy, fx, mu, rs, dg, db, rows, n)
                    .task("rows", RowKernels::layerNormBackward, new KernelContext(), dy, fx, g, mu, rs, d, n);
            p.grid("params", grid1(n * ReductionKernels.COLUMN_GROUP, ReductionKernels.COLUMN_GROUP));
            p.grid("rows", grid1(rows * RowKernels.GROUP, RowKernels.GROUP));
        });
    }

    @Override
    protected void geluForwardKernel(Tensor x, Tensor out) {
        FloatArray fx = f(x), o = f(out);
        int n = x.size();
        if (n == 0) return;
        plans.run(key("geluForward", fx, o, n), p -> p.graph().task("gelu", ElementwiseKernels::geluForward, fx, o, n));
    }

    @Override
    protected void geluBackwardKernel(Tensor x, Tensor dout, Tensor dx) {
        FloatArray fx = f(x), dy = f(dout), d = f(dx);
        int n = x.size();
        if (n == 0) return;
        plans.run(key("geluBackward", fx, dy, d, n), p -> p.graph().task("gelu", ElementwiseKernels::geluBackward, fx, dy, d, n));
    }

    @Override
    protected void softmaxKernel(Tensor x, Tensor out) {
        FloatArray fx = f(x), o = f(out);
        int n = x.cols(), rows = x.rows();
        plans.run(key("softmax", fx, o, n, rows), p -> {
            p.graph().task("rows", RowKernels::softmax, new KernelContext(), fx, o, n);
            p.grid("rows", grid1(rows * RowKernels.GROUP, RowKernels.GROUP));
        });
    }

    // ------------------------------------------------------------------ attention

    private static int[] attentionParams(AttentionShape s, RowView q, RowView k, RowView v, RowView o,
                                         RowView dout, RowView dq, RowView dk, RowView dv) {
        if (s.headDim() > AttentionKernels.MAX_HEAD_DIM) {
            throw new IllegalArgumentException("attention: head dimension " + s.headDim() + " is above the "
                    + AttentionKernels.MAX_HEAD_DIM + " the TornadoVM kernels hold in local memory");
        }
        int[] p = new int[AttentionKernels.PARAMS];
        p[AttentionKernels.BATCH] = s.batch();
        p[AttentionKernels.HEADS] = s.heads();
        p[AttentionKernels.TQ] = s.queryLen();
        p[AttentionKernels.TK] = s.keyLen();
        p[AttentionKernels.HD] = s.headDim();
        RowView[] views = {q, k, v, o, dout, dq, dk, dv};
        for (int i = 0; i < views.length; i++) {
            if (views[i] == null) continue;
            p[AttentionKernels.Q_OFF + 2 * i] = views[i].offset();
            p[AttentionKernels.Q_OFF + 2 * i + 1] = views[i].stride();
        }
        return p;
    }

    @Override
    protected void attentionForwardKernel(AttentionShape s, RowView q, RowView k, RowView v, RowView out, Tensor lse) {
        FloatArray fq = f(q.tensor()), fk = f(k.tensor()), fv = f(v.tensor()), fo = f(out.tensor()), fl = f(lse);
        int[] params = attentionParams(s, q, k, v, out, null, null, null, null);
        float scale = s.scale();
        int rows = s.batch() * s.heads() * s.queryLen();
        plans.run(key("attentionForward", fq, fk, fv, fo, fl, scale, java.util.Arrays.toString(params)), p -> {
            IntArray ip = p.ints(params);
            p.partialOutput(fo);   // out may be a view (a column block of a wider buffer)
            p.graph().task("attention", AttentionKernels::forward, new KernelContext(), fq, fk, fv, fo, fl, ip, scale);
            p.grid("attention", grid1(rows * AttentionKernels.BLOCK, AttentionKernels.BLOCK));
        });
    }

    @Override
    protected void attentionBackwardKernel(AttentionShape s, RowView q, RowView k, RowView v, RowView out,
                                           RowView dout, Tensor lse, RowView dq, RowView dk, RowView dv) {
        FloatArray fq = f(q.tensor()), fk = f(k.tensor()), fv = f(v.tensor()), fo = f(out.tensor()), fg = f(dout.tensor());
        FloatArray fl = f(lse), fdq = f(dq.tensor()), fdk = f(dk.tensor()), fdv = f(dv.tensor());
        int[] params = attentionParams(s, q, k, v, out, dout, dq, dk, dv);
        // dk and dv in one buffer (packed qkv): passed once, see AttentionKernels.backwardKey
        boolean sharedKv = fdk == fdv;
        params[AttentionKernels.DKV_SHARED] = sharedKv ? 1 : 0;
        float scale = s.scale();
        int queryRows = s.batch() * s.heads() * s.queryLen();
        int keyRows = s.batch() * s.heads() * s.keyLen();
        plans.run(key("attentionBackward", fq, fk, fv, fo, fg, fl, fdq, fdk, fdv, scale, java.util.Arrays.toString(params)), p -> {
            IntArray ip = p.ints(params);
            FloatArray delta = p.scratch(queryRows);
            FloatArray dvArg = sharedKv ? p.scratch(1) : fdv;
            // the gradients may be views (packed dqkv): keep what the kernels do not write
            p.partialOutput(fdq);
            if (fdk != fdq) p.partialOutput(fdk);
            if (!sharedKv && fdv != fdq) p.partialOutput(fdv);
            p.graph()
                    .task("queries", AttentionKernels::backwardQuery, new KernelContext(), fq, fk, fv, fo, fg, fl, delta, fdq, ip, scale)
                    .task("keys", AttentionKernels::backwardKey, new KernelContext(), fq, fk, fv, fg, fl, delta, fdk, dvArg, ip, scale);
            p.grid("queries", grid1(queryRows * AttentionKernels.BLOCK, AttentionKernels.BLOCK));
            p.grid("keys", grid1(keyRows * AttentionKernels.BLOCK, AttentionKernels.BLOCK));
        });
    }

    // ------------------------------------------------------------------ masking

    private static void checkIndices(String op, TornadoTensor index, int rows) {
        int kept = index.dim(1);
        int[] idx = index.hostInts;
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= rows) {
                throw new IllegalArgumentException(op + ": index[" + i / kept + ", " + i % kept + "] = " + idx[i]
                        + " is outside [0, " + rows + ")");
            }
        }
    }

    @Override
    protected void gatherRowsKernel(Tensor src, Tensor index, Tensor dst, int srcRows, int width) {
        TornadoTensor idx = tt(index);
        checkIndices("gatherRows", idx, srcRows);
        FloatArray s = f(src), d = f(dst);
        IntArray ix = idx.ints;
        int kept = index.dim(1), rowsOut = index.dim(0) * kept;
        if (rowsOut == 0 || width == 0) return;
        plans.run(key("gatherRows", s, ix, d, rowsOut, kept, srcRows, width), p -> {
            if (d.getSize() > (long) rowsOut * width) p.partialOutput(d);
            p.graph().task("gather", ElementwiseKernels::gatherRows, s, ix, d, rowsOut, kept, srcRows, width);
        });
    }

    @Override
    protected void scatterAddRowsKernel(Tensor src, Tensor index, Tensor dst, int dstRows, int width) {
        TornadoTensor idx = tt(index);
        checkIndices("scatterAddRows", idx, dstRows);
        FloatArray s = f(src), d = f(dst);
        IntArray ix = idx.ints;
        int batch = index.dim(0), kept = index.dim(1);
        if (kept == 0 || width == 0) return;
        plans.run(key("scatterAddRows", s, ix, d, batch, kept, dstRows, width),
                p -> p.graph().task("scatter", ElementwiseKernels::scatterAddRows, s, ix, d, batch, kept, dstRows, width));
    }

    @Override
    protected void patchifyKernel(Tensor imgs, int patch, boolean channelsLast, Tensor out) {
        FloatArray in = f(imgs), o = f(out);
        int total = out.size();
        int[] dims = {imgs.dim(0), imgs.dim(1), imgs.dim(2), imgs.dim(3), patch, channelsLast ? 1 : 0};
        plans.run(key("patchify", in, o, java.util.Arrays.toString(dims)), p -> {
            IntArray ip = p.ints(dims);
            p.graph().task("patchify", ElementwiseKernels::patchify, in, o, ip, total);
        });
    }

    // ------------------------------------------------------------------ losses

    @Override
    protected float maskedMseForwardKernel(Tensor pred, Tensor target, Tensor mask, boolean normPix) {
        FloatArray pr = f(pred), tg = f(target), mk = f(mask);
        int rows = mask.size(), n = pred.size() / rows, norm = normPix ? 1 : 0;
        KernelPlans.Plan plan = plans.run(key("maskedMseForward", pr, tg, mk, rows, n, norm), p -> {
            FloatArray rowLoss = p.scratch(rows);
            FloatArray partLoss = p.scratch(ReductionKernels.PARTS);
            FloatArray partMask = p.scratch(ReductionKernels.PARTS);
            FloatArray sums = p.result(2);
            p.graph()
                    .task("rows", RowKernels::maskedMseRows, new KernelContext(), pr, tg, mk, rowLoss, n, norm)
                    .task("lossParts", ReductionKernels::partialSums, new KernelContext(), rowLoss, partLoss, rows, 0)
                    .task("loss", ReductionKernels::finalSum, new KernelContext(), partLoss, sums, 0)
                    .task("maskParts", ReductionKernels::partialSums, new KernelContext(), mk, partMask, rows, 0)
                    .task("mask", ReductionKernels::finalSum, new KernelContext(), partMask, sums, 1);
            p.grid("rows", grid1(rows * RowKernels.GROUP, RowKernels.GROUP));
            reductionGrids(p, "lossParts", "loss");
            reductionGrids(p, "maskParts", "mask");
        });
        FloatArray sums = plan.results.get(0);
        return (float) ((double) sums.get(0) / sums.get(1));
    }

    @Override
    protected void maskedMseBackwardKernel(Tensor pred, Tensor target, Tensor mask, boolean normPix, float dLoss, Tensor dpred) {
        FloatArray pr = f(pred), tg = f(target), mk = f(mask), g = f(dpred);
        int rows = mask.size(), n = pred.size() / rows, norm = normPix ? 1 : 0;
        plans.run(key("maskedMseBackward", pr, tg, mk, g, rows, n, norm, dLoss), p -> {
            FloatArray partMask = p.scratch(ReductionKernels.PARTS);
            FloatArray den = p.scratch(1);
            p.graph()
                    .task("maskParts", ReductionKernels::partialSums, new KernelContext(), mk, partMask, rows, 0)
                    .task("mask", ReductionKernels::finalSum, new KernelContext(), partMask, den, 0)
                    .task("rows", RowKernels::maskedMseBackwardRows, new KernelContext(), pr, tg, mk, den, g, n, norm, dLoss);
            reductionGrids(p, "maskParts", "mask");
            p.grid("rows", grid1(rows * RowKernels.GROUP, RowKernels.GROUP));
        });
    }

    @Override
    protected float softmaxCrossEntropyKernel(Tensor logits, Tensor targets, Tensor dlogits) {
        FloatArray z = f(logits), y = f(targets);
        int n = logits.cols(), rows = logits.rows();
        boolean grad = dlogits != null;
        FloatArray dz = grad ? f(dlogits) : null;
        KernelPlans.Plan plan = plans.run(key("softmaxCrossEntropy", z, y, grad ? dz : "no-grad", n, rows), p -> {
            FloatArray rowLoss = p.scratch(rows);
            FloatArray parts = p.scratch(ReductionKernels.PARTS);
            FloatArray dzOrDummy = grad ? dz : p.scratch(1);
            FloatArray sum = p.result(1);
            p.graph()
                    .task("rows", RowKernels::crossEntropy, new KernelContext(), z, y, dzOrDummy, rowLoss, n, rows, grad ? 1 : 0)
                    .task("parts", ReductionKernels::partialSums, new KernelContext(), rowLoss, parts, rows, 0)
                    .task("sum", ReductionKernels::finalSum, new KernelContext(), parts, sum, 0);
            p.grid("rows", grid1(rows * RowKernels.GROUP, RowKernels.GROUP));
            reductionGrids(p, "parts", "sum");
        });
        return plan.results.get(0).get(0) / rows;
    }

    // ------------------------------------------------------------------ optimizer and reductions

    @Override
    protected void adamwKernel(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWParams a) {
        FloatArray w = f(param), g = f(grad), fm = f(m), fv = f(v);
        int n = param.size();
        if (n == 0) return;
        // the hyper-parameters change every step, so they are a per-run buffer, not part of the plan's key
        float[] h = adamwHyper(a);
        java.util.List<Object> key = key("adamw", w, g, fm, fv, n);
        KernelPlans.Plan plan = plans.lookup(key);
        if (plan == null) {
            plans.run(key, p -> {
                FloatArray hyper = p.perRun(h.length);
                for (int i = 0; i < h.length; i++) hyper.set(i, h[i]);
                p.graph().task("adamw", ElementwiseKernels::adamw, w, g, fm, fv, hyper, n);
            });
            return;
        }
        FloatArray hyper = plan.perRun.get(0);
        for (int i = 0; i < h.length; i++) hyper.set(i, h[i]);
        plan.execute();
    }

    /** torch.optim.AdamW's per-step constants: {1 - lr*wd, beta1, beta2, lr / bc1, sqrt(bc2), eps}. */
    private static float[] adamwHyper(AdamWParams p) {
        double bc1 = 1.0 - Math.pow(p.beta1(), p.step());
        double bc2 = 1.0 - Math.pow(p.beta2(), p.step());
        return new float[] {1f - p.lr() * p.weightDecay(), p.beta1(), p.beta2(), (float) (p.lr() / bc1),
                (float) Math.sqrt(bc2), p.eps()};
    }

    @Override
    protected float sumKernel(Tensor x) {
        return reduce(x, 0);
    }

    @Override
    protected float sumSquaresKernel(Tensor x) {
        return reduce(x, 1);
    }

    private float reduce(Tensor x, int squares) {
        FloatArray fx = f(x);
        int n = x.size();
        if (n == 0) return 0f;
        KernelPlans.Plan plan = plans.run(key("sum", fx, n, squares), p -> {
            FloatArray parts = p.scratch(ReductionKernels.PARTS);
            FloatArray sum = p.result(1);
            p.graph()
                    .task("parts", ReductionKernels::partialSums, new KernelContext(), fx, parts, n, squares)
                    .task("sum", ReductionKernels::finalSum, new KernelContext(), parts, sum, 0);
            reductionGrids(p, "parts", "sum");
        });
        return plan.results.get(0).get(0);
    }

    // ------------------------------------------------------------------ helpers

    private static void reductionGrids(KernelPlans.Builder p, String parts, String fin) {
        p.grid(parts, grid1(ReductionKernels.PARTS * ReductionKernels.GROUP, ReductionKernels.GROUP));
        p.grid(fin, grid1(ReductionKernels.GROUP, ReductionKernels.GROUP));
    }

    private static WorkerGrid grid1(int global, int local) {
        WorkerGrid g = new WorkerGrid1D(global);
        g.setLocalWork(local, 1, 1);
        return g;
    }

    private static WorkerGrid grid2(int globalX, int globalY, int localX, int localY) {
        WorkerGrid g = new WorkerGrid2D(globalX, globalY);
        g.setLocalWork(localX, localY, 1);
        return g;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static TornadoTensor tt(Tensor t) {
        if (t instanceof TornadoTensor x) return x;
        throw new IllegalArgumentException("expected a tensor of the tornado backend, got " + t
                + (t == null ? "" : " (" + t.getClass().getSimpleName() + ")") + "; copy it with toHost/fromHost");
    }

    private static FloatArray f(Tensor t) {
        TornadoTensor x = tt(t);
        if (x.floats == null) throw new IllegalArgumentException("expected a float32 tensor, got " + t);
        return x.floats;
    }
}
