package org.maejvm.nn;

import org.maejvm.tensor.Tensor;

/**
 * torch.nn.BatchNorm1d on [N, C] features. Training: each column is normalised with the batch mean and the biased
 * batch variance, and the running statistics are updated as torch does (momentum 0.1, the UNBIASED variance).
 * Eval: the running statistics normalise. With {@code affine} a per-feature weight (1) and bias (0) follow.
 * State-dict names are torch's: {@code weight}, {@code bias}, {@code running_mean}, {@code running_var} and
 * {@code num_batches_tracked} (counted per training forward, saved and loaded as torch does; with a fixed momentum
 * neither torch nor this class reads it).
 *
 * <p>Built from existing ops: BatchNorm over the batch is LayerNorm over the rows of the transpose [C, N].
 * The transposes are GEMMs with an identity (or, on the way back, with diag(weight), which applies the affine
 * scale for free); they cost O(N²C + NC²), negligible next to the encoder that produced the features.
 */
public final class BatchNorm1d extends Layer {
    /** torch's default momentum for the running statistics. */
    public static final double TORCH_MOMENTUM = 0.1;

    private final int features;
    private final float eps;
    private final double momentum;
    private final Parameter weight, bias, runningMean, runningVar;
    private final Counter numBatchesTracked;
    private boolean training = true;

    // Step buffers. T = transposed [C, N].
    private Tensor x, xT, xhatT, y, mean, rstd, lnOnes, lnZeros, dgSink, dbSink, identityN, identityC, diagWeight, diagEval, trainScale, shift, dxhatT, dxT, dx;
    private int batch;

    public BatchNorm1d(ParameterSet params, String prefix, int features, float eps, double momentum, boolean affine) {
        super(params.backend());
        if (features <= 0) throw new IllegalArgumentException("BatchNorm1d needs at least one feature, got " + features);
        if (!(eps > 0)) throw new IllegalArgumentException("BatchNorm1d eps must be > 0, got " + eps);
        if (!(momentum >= 0 && momentum <= 1)) throw new IllegalArgumentException("BatchNorm1d momentum must be in [0, 1], got " + momentum);
        this.features = features;
        this.eps = eps;
        this.momentum = momentum;
        if (affine) {
            weight = params.add(join(prefix, "weight"), true, features);
            bias = params.add(join(prefix, "bias"), true, features);
            backend.fill(weight.value(), 1f);
        } else {
            weight = null;
            bias = null;
        }
        runningMean = params.add(join(prefix, "running_mean"), false, features);
        runningVar = params.add(join(prefix, "running_var"), false, features);
        backend.fill(runningVar.value(), 1f);
        numBatchesTracked = params.addCounter(join(prefix, "num_batches_tracked"));
    }

    /** Training mode (batch statistics, running statistics updated) or eval mode (running statistics). */
    public void train(boolean on) { training = on; }

    public boolean training() { return training; }

    public Parameter runningMean() { return runningMean; }

    public Parameter runningVar() { return runningVar; }

    /** Training forwards so far (torch's {@code num_batches_tracked}). */
    public Counter numBatchesTracked() { return numBatchesTracked; }

    /** x [N, C] to y [N, C]. */
    public Tensor forward(Tensor input) {
        if (input.rank() != 2 || input.dim(1) != features) {
            throw new IllegalArgumentException("BatchNorm1d(" + features + ") expects [N, " + features + "], got " + input);
        }
        int n = input.dim(0);
        if (n == 0) throw new IllegalArgumentException("BatchNorm1d got an empty batch");
        if (training && n < 2) {
            throw new IllegalArgumentException("BatchNorm1d in training mode needs more than 1 sample per batch (as torch), got "
                    + n + "; use a larger batch or eval mode");
        }
        this.x = input;
        this.batch = n;
        y = ensure(y, n, features);
        return training ? forwardTraining(n) : forwardEval(n);
    }

    private Tensor forwardTraining(int n) {
        int c = features;
        identityN = identity(identityN, n);
        xT = ensure(xT, c, n);
        backend.gemm(true, false, c, n, n, 1f, x, 0, c, identityN, 0, n, 0f, xT, 0, n);
        if (lnOnes == null || lnOnes.size() != n) {
            lnOnes = ensure(lnOnes, n);
            backend.fill(lnOnes, 1f);
            lnZeros = ensure(lnZeros, n);
            backend.fill(lnZeros, 0f);
        }
        xhatT = ensure(xhatT, c, n);
        mean = ensure(mean, c);
        rstd = ensure(rstd, c);
        backend.layerNormForward(xT, lnOnes, lnZeros, eps, xhatT, mean, rstd);
        identityC = identity(identityC, c);
        trainScale = weight == null ? identityC : (diagWeight = diagonal(diagWeight, backend.toHost(weight.value())));
        backend.gemm(true, false, n, c, c, 1f, xhatT, 0, n, trainScale, 0, c, 0f, y, 0, c);
        if (bias != null) backend.addBias(y, bias.value());
        updateRunningStats(n);
        return y;
    }

    private void updateRunningStats(int n) {
        float[] m = backend.toHost(mean), r = backend.toHost(rstd);
        float[] rm = backend.toHost(runningMean.value()), rv = backend.toHost(runningVar.value());
        double mom = momentum, unbias = (double) n / (n - 1);
        for (int i = 0; i < features; i++) {
            double biasedVar = 1.0 / ((double) r[i] * r[i]) - eps; // LayerNorm saved rstd = 1 / sqrt(var + eps)
            rm[i] = (float) ((1 - mom) * rm[i] + mom * m[i]);
            rv[i] = (float) ((1 - mom) * rv[i] + mom * Math.max(0, biasedVar) * unbias);
        }
        backend.upload(rm, runningMean.value());
        backend.upload(rv, runningVar.value());
        numBatchesTracked.increment();
    }

    private Tensor forwardEval(int n) {
        int c = features;
        float[] rm = backend.toHost(runningMean.value()), rv = backend.toHost(runningVar.value());
        float[] w = weight == null ? null : backend.toHost(weight.value());
        float[] b = bias == null ? null : backend.toHost(bias.value());
        float[] scale = new float[c], sh = new float[c];
        for (int i = 0; i < c; i++) {
            double s = 1.0 / Math.sqrt((double) rv[i] + eps) * (w == null ? 1 : w[i]);
            scale[i] = (float) s;
            sh[i] = (float) ((b == null ? 0 : b[i]) - rm[i] * s);
        }
        diagEval = diagonal(diagEval, scale);
        backend.gemm(false, false, n, c, c, 1f, x, 0, c, diagEval, 0, c, 0f, y, 0, c);
        shift = ensure(shift, c);
        backend.upload(sh, shift);
        backend.addBias(y, shift);
        return y;
    }

    /** Writes dx [N, C]; accumulates the weight and bias gradients when affine. */
    public Tensor backward(Tensor dy) {
        if (x == null) throw new IllegalStateException("BatchNorm1d.backward needs a forward first");
        int n = batch, c = features;
        dx = ensure(dx, n, c);
        if (!training) { // y = x * scale + shift: dx = dy * scale (running statistics are constants)
            if (weight != null) {
                throw new UnsupportedOperationException("BatchNorm1d: back-propagation in eval mode is only supported without affine");
            }
            backend.gemm(false, false, n, c, c, 1f, dy, 0, c, diagEval, 0, c, 0f, dx, 0, c);
            return dx;
        }
        if (weight != null) {
            backend.biasGrad(dy, bias.grad());
            // dweight[c] += sum_n dy[n, c] * xhat[n, c]: one dot product per feature, as a batch of 1x1 GEMMs.
            Tensor dyT = dxhatT = ensure(dxhatT, c, n);
            backend.gemm(true, false, c, n, n, 1f, dy, 0, c, identityN, 0, n, 0f, dyT, 0, n);
            backend.gemmBatched(false, true, 1, 1, n, 1f, dyT, 0, n, n, xhatT, 0, n, n, 1f, weight.grad(), 0, 1, 1, c);
        }
        // dxhat^T = diag(weight) dy^T, then LayerNorm's backward on the transposed rows, then transpose back.
        dxhatT = ensure(dxhatT, c, n);
        backend.gemm(false, true, c, n, c, 1f, trainScale, 0, c, dy, 0, c, 0f, dxhatT, 0, n);
        dxT = ensure(dxT, c, n);
        dgSink = ensure(dgSink, n); // the gradients of LayerNorm's unit gamma and zero beta are not needed
        dbSink = ensure(dbSink, n);
        backend.layerNormBackward(dxhatT, xT, lnOnes, mean, rstd, dxT, dgSink, dbSink);
        backend.gemm(true, false, n, c, c, 1f, dxT, 0, n, identityC, 0, c, 0f, dx, 0, c);
        return dx;
    }

    private Tensor identity(Tensor current, int n) {
        if (current != null && current.size() == n * n) return current;
        float[] eye = new float[n * n];
        for (int i = 0; i < n; i++) eye[i * n + i] = 1f;
        Tensor t = ensure(current, n, n);
        backend.upload(eye, t);
        return t;
    }

    private Tensor diagonal(Tensor current, float[] diag) {
        int c = features;
        float[] m = new float[c * c];
        for (int i = 0; i < c; i++) m[i * c + i] = diag[i];
        Tensor t = ensure(current, c, c);
        backend.upload(m, t);
        return t;
    }
}
