package org.maejvm.simd;

import static org.maejvm.tensor.HostTensor.floats;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.maejvm.ops.AttentionShape;
import org.maejvm.ops.RowView;

/**
 * Fused multi-head attention, flash-attention style: probabilities never leave a per-thread buffer holding one
 * block of query rows against all keys, and the backward recomputes them from q, k and the saved log-sum-exp.
 *
 * <p>Each (batch, head) is packed once per task into small zero-padded buffers (kᵀ, v, ...) whose rows are a
 * whole number of vectors, so every product below is a small register-blocked GEMM ({@link #smallGemm}) with
 * no tails; only the final write into the caller's strided views handles a head dim that is not a multiple of
 * the vector length. Element (b, t, h, d) of a view sits at offset + (b * T + t) * stride + h * headDim + d.
 */
final class SimdAttention {
    private SimdAttention() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();

    /** Query rows per block: the score buffer is QB x keyLen floats per thread. */
    static final int QB = 64;

    /** Per-thread buffers, grown on demand and reused across calls. */
    private static final class Workspace {
        float[] kt = new float[0], vt = new float[0], kp = new float[0], vp = new float[0];
        float[] qb = new float[0], dob = new float[0], ob = new float[0], sc = new float[0], dp = new float[0];
        float[] dkAcc = new float[0], dvAcc = new float[0], inv = new float[QB];

        static float[] ensure(float[] a, int n) {
            return a.length >= n ? a : new float[Math.max(n, a.length + a.length / 2)];
        }
    }

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    static int roundUp(int n) {
        return (n + L - 1) / L * L;
    }

    // ------------------------------------------------------------------ forward

    static void forward(ThreadPool pool, AttentionShape s, RowView q, RowView k, RowView v, RowView out, float[] lse) {
        int blocks = (s.queryLen() + QB - 1) / QB;
        int tasks = s.batch() * s.heads() * blocks;
        long workPerTask = 4L * Math.min(QB, s.queryLen()) * s.keyLen() * s.headDim();
        // consecutive tasks of a range share (batch, head), so K and V are packed once per range and head
        SimdParallel.run(pool, tasks, workPerTask, (task, from, to) -> {
            Workspace ws = WORKSPACE.get();
            int packed = -1;
            for (int t = from; t < to; t++) {
                int bh = t / blocks, blk = t % blocks;
                if (bh != packed) {
                    packKeysValues(s, bh / s.heads(), bh % s.heads(), k, v, ws);
                    packed = bh;
                }
                int i0 = blk * QB, i1 = Math.min(s.queryLen(), i0 + QB);
                forwardBlock(s, bh / s.heads(), bh % s.heads(), i0, i1, q, out, lse, ws);
            }
        });
    }

    /** kt [hd, tkPad] = kᵀ, vp [tk, hdPad] = v for one (batch, head), zero padded. */
    private static void packKeysValues(AttentionShape s, int b, int h, RowView k, RowView v, Workspace ws) {
        int tk = s.keyLen(), hd = s.headDim(), tkPad = roundUp(tk), hdPad = roundUp(hd);
        ws.kt = Workspace.ensure(ws.kt, hd * tkPad);
        ws.vp = Workspace.ensure(ws.vp, tk * hdPad);
        packTransposed(k, b * tk, tk, h * hd, hd, ws.kt, tkPad);
        packRows(v, b * tk, tk, h * hd, hd, 1f, ws.vp, hdPad);
    }

    private static void forwardBlock(AttentionShape s, int b, int h, int i0, int i1, RowView q, RowView out,
                                     float[] lse, Workspace ws) {
        int tq = s.queryLen(), tk = s.keyLen(), hd = s.headDim(), tkPad = roundUp(tk), hdPad = roundUp(hd);
        int rows = i1 - i0;
        ws.qb = Workspace.ensure(ws.qb, rows * hdPad);
        ws.sc = Workspace.ensure(ws.sc, rows * tkPad);
        ws.ob = Workspace.ensure(ws.ob, rows * hdPad);
        float[] qb = ws.qb, sc = ws.sc, ob = ws.ob;
        // scores = (scale q) kᵀ
        packRows(q, b * tq + i0, rows, h * hd, hd, s.scale(), qb, hdPad);
        smallGemm(rows, tkPad, hd, qb, 0, hdPad, 1, ws.kt, tkPad, sc, tkPad, false);
        // unnormalised probabilities in place, and the log-sum-exp the backward recomputes them from
        float[] inv = ws.inv;
        int lseBase = (b * s.heads() + h) * tq + i0;
        for (int i = 0; i < rows; i++) {
            float max = SimdActivations.max(sc, i * tkPad, tk);
            float sum = SimdActivations.expShifted(sc, i * tkPad, sc, i * tkPad, tk, max);
            lse[lseBase + i] = max + (float) Math.log(sum);
            inv[i] = 1f / sum;
        }
        // out = P v / rowsum
        smallGemm(rows, hdPad, tk, sc, 0, tkPad, 1, ws.vp, hdPad, ob, hdPad, false);
        for (int i = 0; i < rows; i++) {
            storeRow(ob, i * hdPad, inv[i], floats(out.tensor()), out.offset() + (b * tq + i0 + i) * out.stride() + h * hd, hd);
        }
    }

    // ------------------------------------------------------------------ backward

    /**
     * Parallel over (batch, head) only: each task owns the dK and dV rows of its head, so no two threads write
     * the same gradient element and no per-thread copies of dK / dV are needed.
     */
    static void backward(ThreadPool pool, AttentionShape s, RowView q, RowView k, RowView v, RowView out,
                         RowView dout, float[] lse, RowView dq, RowView dk, RowView dv) {
        int tasks = s.batch() * s.heads();
        long workPerTask = 10L * s.queryLen() * s.keyLen() * s.headDim();
        SimdParallel.run(pool, tasks, workPerTask, (task, from, to) -> {
            Workspace ws = WORKSPACE.get();
            for (int bh = from; bh < to; bh++) {
                backwardHead(s, bh / s.heads(), bh % s.heads(), q, k, v, out, dout, lse, dq, dk, dv, ws);
            }
        });
    }

    private static void backwardHead(AttentionShape s, int b, int h, RowView q, RowView k, RowView v, RowView out,
                                     RowView dout, float[] lse, RowView dq, RowView dk, RowView dv, Workspace ws) {
        int tq = s.queryLen(), tk = s.keyLen(), hd = s.headDim(), tkPad = roundUp(tk), hdPad = roundUp(hd);
        float scale = s.scale();
        int rowsMax = Math.min(QB, tq);
        ws.kt = Workspace.ensure(ws.kt, hd * tkPad);
        ws.vt = Workspace.ensure(ws.vt, hd * tkPad);
        ws.kp = Workspace.ensure(ws.kp, tk * hdPad);
        ws.dkAcc = Workspace.ensure(ws.dkAcc, tk * hdPad);
        ws.dvAcc = Workspace.ensure(ws.dvAcc, tk * hdPad);
        ws.qb = Workspace.ensure(ws.qb, rowsMax * hdPad);
        ws.dob = Workspace.ensure(ws.dob, rowsMax * hdPad);
        ws.ob = Workspace.ensure(ws.ob, rowsMax * hdPad);
        ws.sc = Workspace.ensure(ws.sc, rowsMax * tkPad);
        ws.dp = Workspace.ensure(ws.dp, rowsMax * tkPad);
        float[] kt = ws.kt, vt = ws.vt, kp = ws.kp, dkAcc = ws.dkAcc, dvAcc = ws.dvAcc;
        float[] qb = ws.qb, dob = ws.dob, dqb = ws.ob, p = ws.sc, dp = ws.dp;
        packTransposed(k, b * tk, tk, h * hd, hd, kt, tkPad);
        packTransposed(v, b * tk, tk, h * hd, hd, vt, tkPad);
        packRows(k, b * tk, tk, h * hd, hd, 1f, kp, hdPad);
        java.util.Arrays.fill(dkAcc, 0, tk * hdPad, 0f);
        java.util.Arrays.fill(dvAcc, 0, tk * hdPad, 0f);
        float[] O = floats(out.tensor()), dO = floats(dout.tensor());
        int lseBase = (b * s.heads() + h) * tq;

        for (int i0 = 0; i0 < tq; i0 += QB) {
            int rows = Math.min(QB, tq - i0);
            packRows(q, b * tq + i0, rows, h * hd, hd, 1f, qb, hdPad);
            packRows(dout, b * tq + i0, rows, h * hd, hd, 1f, dob, hdPad);
            // P = exp(scale q kᵀ - lse), recomputed; dP = dO vᵀ
            smallGemm(rows, tkPad, hd, qb, 0, hdPad, 1, kt, tkPad, p, tkPad, false);
            smallGemm(rows, tkPad, hd, dob, 0, hdPad, 1, vt, tkPad, dp, tkPad, false);
            for (int i = 0; i < rows; i++) {
                int row = b * tq + i0 + i;
                // D_i = dO_i . O_i equals sum_j P_ij dP_ij, the softmax-backward correction
                float di = SimdElementwise.dot(dO, dout.offset() + row * dout.stride() + h * hd,
                        O, out.offset() + row * out.stride() + h * hd, hd);
                probabilitiesAndScoreGrad(p, dp, i * tkPad, tk, scale, lse[lseBase + i0 + i], di);
            }
            // dV += Pᵀ dO; dK += dSᵀ q (scale applied at the end); dQ = dS k (scale applied on store)
            smallGemm(tk, hdPad, rows, p, 0, 1, tkPad, dob, hdPad, dvAcc, hdPad, true);
            smallGemm(tk, hdPad, rows, dp, 0, 1, tkPad, qb, hdPad, dkAcc, hdPad, true);
            smallGemm(rows, hdPad, tk, dp, 0, tkPad, 1, kp, hdPad, dqb, hdPad, false);
            for (int i = 0; i < rows; i++) {
                storeRow(dqb, i * hdPad, scale, floats(dq.tensor()), dq.offset() + (b * tq + i0 + i) * dq.stride() + h * hd, hd);
            }
        }
        for (int j = 0; j < tk; j++) {
            storeRow(dkAcc, j * hdPad, scale, floats(dk.tensor()), dk.offset() + (b * tk + j) * dk.stride() + h * hd, hd);
            storeRow(dvAcc, j * hdPad, 1f, floats(dv.tensor()), dv.offset() + (b * tk + j) * dv.stride() + h * hd, hd);
        }
    }

    /** In one row: p = exp(scale * p - lse); dp = p * (dp - di), the score gradient without its scale. */
    private static void probabilitiesAndScoreGrad(float[] p, float[] dp, int off, int tk, float scale, float lse, float di) {
        SimdMath.scaleShift(p, off, off + tk, scale, lse);
        SimdMath.expInPlace(p, off, off + tk);
        int j = 0;
        for (int upper = S.loopBound(tk); j < upper; j += L) {
            FloatVector.fromArray(S, dp, off + j).sub(di).mul(FloatVector.fromArray(S, p, off + j)).intoArray(dp, off + j);
        }
        for (; j < tk; j++) dp[off + j] = p[off + j] * (dp[off + j] - di);
    }

    // ------------------------------------------------------------------ packing

    /** dst[r * ld + d] = alpha * view row (row0 + r), columns [col, col + n), zero up to ld. */
    private static void packRows(RowView view, int row0, int rows, int col, int n, float alpha, float[] dst, int ld) {
        float[] src = floats(view.tensor());
        for (int r = 0; r < rows; r++) {
            int so = view.offset() + (row0 + r) * view.stride() + col, d0 = r * ld;
            if (alpha == 1f) {
                System.arraycopy(src, so, dst, d0, n);
            } else {
                for (int d = 0; d < n; d++) dst[d0 + d] = alpha * src[so + d];
            }
            java.util.Arrays.fill(dst, d0 + n, d0 + ld, 0f);
        }
    }

    /** dst[d * ld + r] = view row (row0 + r), column col + d: the transpose, zero padded from rows up to ld. */
    private static void packTransposed(RowView view, int row0, int rows, int col, int n, float[] dst, int ld) {
        float[] src = floats(view.tensor());
        for (int r = 0; r < rows; r++) {
            int so = view.offset() + (row0 + r) * view.stride() + col;
            for (int d = 0; d < n; d++) dst[d * ld + r] = src[so + d];
        }
        for (int d = 0; d < n; d++) java.util.Arrays.fill(dst, d * ld + rows, d * ld + ld, 0f);
    }

    /** dst[dOff, dOff + n) = alpha * src[sOff, sOff + n). */
    private static void storeRow(float[] src, int sOff, float alpha, float[] dst, int dOff, int n) {
        int d = 0;
        for (int upper = S.loopBound(n); d < upper; d += L) {
            FloatVector.fromArray(S, src, sOff + d).mul(alpha).intoArray(dst, dOff + d);
        }
        for (; d < n; d++) dst[dOff + d] = alpha * src[sOff + d];
    }

    // ------------------------------------------------------------------ small GEMM

    /**
     * c[i * ldc + j] (+)= sum over l < k of A(i, l) * b[l * ldb + j], for i < m and j < n, where
     * A(i, l) = a[aOff + i * ars + l * acs] (so a transposed A is just other strides) and n is a multiple of
     * the vector length. Register tiles of 4 rows x 2 vectors keep eight independent FMA chains in flight.
     */
    static void smallGemm(int m, int n, int k, float[] a, int aOff, int ars, int acs,
                          float[] b, int ldb, float[] c, int ldc, boolean accumulate) {
        int i = 0;
        for (; i + 4 <= m; i += 4) {
            int j = 0;
            for (; j + 2 * L <= n; j += 2 * L) tile4x2(k, a, aOff + i * ars, ars, acs, b, j, ldb, c, i * ldc + j, ldc, accumulate);
            for (; j < n; j += L) tile4x1(k, a, aOff + i * ars, ars, acs, b, j, ldb, c, i * ldc + j, ldc, accumulate);
        }
        for (; i < m; i++) {
            int j = 0;
            for (; j + 2 * L <= n; j += 2 * L) tile1x2(k, a, aOff + i * ars, acs, b, j, ldb, c, i * ldc + j, accumulate);
            for (; j < n; j += L) tile1x1(k, a, aOff + i * ars, acs, b, j, ldb, c, i * ldc + j, accumulate);
        }
    }

    private static void tile4x2(int k, float[] a, int a0, int ars, int acs, float[] b, int b0, int ldb,
                                float[] c, int c0, int ldc, boolean accumulate) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        for (int l = 0; l < k; l++) {
            int bo = b0 + l * ldb, ao = a0 + l * acs;
            FloatVector b0v = FloatVector.fromArray(S, b, bo), b1v = FloatVector.fromArray(S, b, bo + L);
            FloatVector x = FloatVector.broadcast(S, a[ao]);
            c00 = x.fma(b0v, c00);
            c01 = x.fma(b1v, c01);
            x = FloatVector.broadcast(S, a[ao + ars]);
            c10 = x.fma(b0v, c10);
            c11 = x.fma(b1v, c11);
            x = FloatVector.broadcast(S, a[ao + 2 * ars]);
            c20 = x.fma(b0v, c20);
            c21 = x.fma(b1v, c21);
            x = FloatVector.broadcast(S, a[ao + 3 * ars]);
            c30 = x.fma(b0v, c30);
            c31 = x.fma(b1v, c31);
        }
        // No store helper taking the accumulators: one that C2 does not inline boxes them (see GemmKernel).
        int c1 = c0 + ldc, c2 = c0 + 2 * ldc, c3 = c0 + 3 * ldc;
        if (accumulate) {
            c00 = c00.add(FloatVector.fromArray(S, c, c0));
            c01 = c01.add(FloatVector.fromArray(S, c, c0 + L));
            c10 = c10.add(FloatVector.fromArray(S, c, c1));
            c11 = c11.add(FloatVector.fromArray(S, c, c1 + L));
            c20 = c20.add(FloatVector.fromArray(S, c, c2));
            c21 = c21.add(FloatVector.fromArray(S, c, c2 + L));
            c30 = c30.add(FloatVector.fromArray(S, c, c3));
            c31 = c31.add(FloatVector.fromArray(S, c, c3 + L));
        }
        c00.intoArray(c, c0);
        c01.intoArray(c, c0 + L);
        c10.intoArray(c, c1);
        c11.intoArray(c, c1 + L);
        c20.intoArray(c, c2);
        c21.intoArray(c, c2 + L);
        c30.intoArray(c, c3);
        c31.intoArray(c, c3 + L);
    }

    private static void tile4x1(int k, float[] a, int a0, int ars, int acs, float[] b, int b0, int ldb,
                                float[] c, int c0, int ldc, boolean accumulate) {
        FloatVector c0v = FloatVector.zero(S), c1v = c0v, c2v = c0v, c3v = c0v;
        for (int l = 0; l < k; l++) {
            int ao = a0 + l * acs;
            FloatVector bv = FloatVector.fromArray(S, b, b0 + l * ldb);
            c0v = FloatVector.broadcast(S, a[ao]).fma(bv, c0v);
            c1v = FloatVector.broadcast(S, a[ao + ars]).fma(bv, c1v);
            c2v = FloatVector.broadcast(S, a[ao + 2 * ars]).fma(bv, c2v);
            c3v = FloatVector.broadcast(S, a[ao + 3 * ars]).fma(bv, c3v);
        }
        int c1 = c0 + ldc, c2 = c0 + 2 * ldc, c3 = c0 + 3 * ldc;
        if (accumulate) {
            c0v = c0v.add(FloatVector.fromArray(S, c, c0));
            c1v = c1v.add(FloatVector.fromArray(S, c, c1));
            c2v = c2v.add(FloatVector.fromArray(S, c, c2));
            c3v = c3v.add(FloatVector.fromArray(S, c, c3));
        }
        c0v.intoArray(c, c0);
        c1v.intoArray(c, c1);
        c2v.intoArray(c, c2);
        c3v.intoArray(c, c3);
    }

    private static void tile1x2(int k, float[] a, int a0, int acs, float[] b, int b0, int ldb,
                                float[] c, int c0, boolean accumulate) {
        FloatVector c0v = FloatVector.zero(S), c1v = c0v;
        for (int l = 0; l < k; l++) {
            int bo = b0 + l * ldb;
            FloatVector x = FloatVector.broadcast(S, a[a0 + l * acs]);
            c0v = x.fma(FloatVector.fromArray(S, b, bo), c0v);
            c1v = x.fma(FloatVector.fromArray(S, b, bo + L), c1v);
        }
        if (accumulate) {
            c0v = c0v.add(FloatVector.fromArray(S, c, c0));
            c1v = c1v.add(FloatVector.fromArray(S, c, c0 + L));
        }
        c0v.intoArray(c, c0);
        c1v.intoArray(c, c0 + L);
    }

    private static void tile1x1(int k, float[] a, int a0, int acs, float[] b, int b0, int ldb,
                                float[] c, int c0, boolean accumulate) {
        FloatVector cv = FloatVector.zero(S);
        for (int l = 0; l < k; l++) cv = FloatVector.broadcast(S, a[a0 + l * acs]).fma(FloatVector.fromArray(S, b, b0 + l * ldb), cv);
        if (accumulate) cv = cv.add(FloatVector.fromArray(S, c, c0));
        cv.intoArray(c, c0);
    }
}
