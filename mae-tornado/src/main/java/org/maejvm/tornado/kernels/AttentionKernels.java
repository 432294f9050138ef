package org.maejvm.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Fused multi-head attention, softmax(scale q kᵀ) v, forward and backward, in the [B, T, H*D] layout of
 * {@code AttentionShape} (rows at offset + row * stride, head h at columns h*D .. h*D + D).
 *
 * <p>Forward: one work-group of BLOCK work-items per (batch, head, query row). The query row and the output
 * accumulator live in local memory; keys are walked BLOCK at a time, each work-item scoring one key into a
 * local score block, and the block is folded in with the online (streaming) softmax: running max m and sum l,
 * the accumulator rescaled by exp(m_old - m_new). The probabilities are never stored; lse = m + log l is.
 *
 * <p>Backward (FlashAttention-2 style, recomputing p = exp(s - lse)): pass 1, one group per query row, computes
 * D = dO · O, stores it, and dq = sum_j ds_j k_j; pass 2, one group per key row, dk = sum_i ds_i q_i and
 * dv = sum_i p_i dO_i, so no two work-groups write the same element (no atomics, deterministic sums).
 */
public final class AttentionKernels {
    private AttentionKernels() {}

    /** Work-items per group: keys (or queries) per block. */
    public static final int BLOCK = 32;
    /** Largest head dimension the local buffers hold. */
    public static final int MAX_HEAD_DIM = 256;

    public static final int BATCH = 0, HEADS = 1, TQ = 2, TK = 3, HD = 4, Q_OFF = 5, Q_STRIDE = 6, K_OFF = 7, K_STRIDE = 8,
            V_OFF = 9, V_STRIDE = 10, O_OFF = 11, O_STRIDE = 12, DO_OFF = 13, DO_STRIDE = 14, DQ_OFF = 15, DQ_STRIDE = 16,
            DK_OFF = 17, DK_STRIDE = 18, DV_OFF = 19, DV_STRIDE = 20, DKV_SHARED = 21, PARAMS = 22;

    public static void forward(KernelContext ctx, FloatArray q, FloatArray k, FloatArray v, FloatArray o, FloatArray lse,
                               IntArray p, float scale) {
        int t = ctx.localIdx;
        int heads = p.get(HEADS);
        int tq = p.get(TQ);
        int tk = p.get(TK);
        int hd = p.get(HD);
        int row = ctx.groupIdx; // (b * heads + h) * tq + i
        int i = row % tq;
        int h = (row / tq) % heads;
        int b = row / (tq * heads);

        float[] qs = ctx.allocateFloatLocalArray(MAX_HEAD_DIM);
        float[] acc = ctx.allocateFloatLocalArray(MAX_HEAD_DIM);
        float[] s = ctx.allocateFloatLocalArray(BLOCK);
        float[] pb = ctx.allocateFloatLocalArray(BLOCK);

        int qi = p.get(Q_OFF) + (b * tq + i) * p.get(Q_STRIDE) + h * hd;
        for (int d = t; d < hd; d += BLOCK) {
            qs[d] = q.get(qi + d);
            acc[d] = 0f;
        }
        ctx.localBarrier();

        int kOff = p.get(K_OFF) + h * hd;
        int kStride = p.get(K_STRIDE);
        int vOff = p.get(V_OFF) + h * hd;
        int vStride = p.get(V_STRIDE);
        float mRun = Float.NEGATIVE_INFINITY;
        float lRun = 0f;
        for (int j0 = 0; j0 < tk; j0 += BLOCK) {
            int j = j0 + t;
            float score = Float.NEGATIVE_INFINITY;
            if (j < tk) {
                int kj = kOff + (b * tk + j) * kStride;
                float dot = 0f;
                for (int d = 0; d < hd; d++) {
                    dot += qs[d] * k.get(kj + d);
                }
                score = dot * scale;
            }
            s[t] = score;
            ctx.localBarrier();
            int count = TornadoMath.min(BLOCK, tk - j0);
            float blockMax = Float.NEGATIVE_INFINITY;
            for (int u = 0; u < count; u++) {
                blockMax = TornadoMath.max(blockMax, s[u]);
            }
            float mNew = TornadoMath.max(mRun, blockMax);
            pb[t] = t < count ? TornadoMath.exp(s[t] - mNew) : 0f;
            ctx.localBarrier();
            float correction = TornadoMath.exp(mRun - mNew);
            float blockSum = 0f;
            for (int u = 0; u < count; u++) {
                blockSum += pb[u];
            }
            lRun = lRun * correction + blockSum;
            for (int d = t; d < hd; d += BLOCK) {
                float a = acc[d] * correction;
                for (int u = 0; u < count; u++) {
                    a += pb[u] * v.get(vOff + (b * tk + j0 + u) * vStride + d);
                }
                acc[d] = a;
            }
            mRun = mNew;
            ctx.localBarrier();
        }
        int oi = p.get(O_OFF) + (b * tq + i) * p.get(O_STRIDE) + h * hd;
        for (int d = t; d < hd; d += BLOCK) {
            o.set(oi + d, acc[d] / lRun);
        }
        if (t == 0) {
            lse.set(row, mRun + TornadoMath.log(lRun));
        }
    }

    /** Pass 1 of the backward: delta = dO · O per query row, and dq. */
    public static void backwardQuery(KernelContext ctx, FloatArray q, FloatArray k, FloatArray v, FloatArray o, FloatArray dout,
                                     FloatArray lse, FloatArray delta, FloatArray dq, IntArray p, float scale) {
        int t = ctx.localIdx;
        int heads = p.get(HEADS);
        int tq = p.get(TQ);
        int tk = p.get(TK);
        int hd = p.get(HD);
        int row = ctx.groupIdx;
        int i = row % tq;
        int h = (row / tq) % heads;
        int b = row / (tq * heads);

        float[] qs = ctx.allocateFloatLocalArray(MAX_HEAD_DIM);
        float[] gs = ctx.allocateFloatLocalArray(MAX_HEAD_DIM);
        float[] dqa = ctx.allocateFloatLocalArray(MAX_HEAD_DIM);
        float[] part = ctx.allocateFloatLocalArray(BLOCK);
        float[] ds = ctx.allocateFloatLocalArray(BLOCK);

        int qi = p.get(Q_OFF) + (b * tq + i) * p.get(Q_STRIDE) + h * hd;
        int oi = p.get(O_OFF) + (b * tq + i) * p.get(O_STRIDE) + h * hd;
        int gi = p.get(DO_OFF) + (b * tq + i) * p.get(DO_STRIDE) + h * hd;
        float partial = 0f;
        for (int d = t; d < hd; d += BLOCK) {
            qs[d] = q.get(qi + d);
            float g = dout.get(gi + d);
            gs[d] = g;
            dqa[d] = 0f;
            partial += g * o.get(oi + d);
        }
        part[t] = partial;
        ctx.localBarrier();
        float di = 0f;
        for (int u = 0; u < BLOCK; u++) {
            di += part[u];
        }
        if (t == 0) {
            delta.set(row, di);
        }
        float lseI = lse.get(row);

        int kOff = p.get(K_OFF) + h * hd;
        int kStride = p.get(K_STRIDE);
        int vOff = p.get(V_OFF) + h * hd;
        int vStride = p.get(V_STRIDE);
        for (int j0 = 0; j0 < tk; j0 += BLOCK) {
            int j = j0 + t;
            float dsj = 0f;
            if (j < tk) {
                int kj = kOff + (b * tk + j) * kStride;
                int vj = vOff + (b * tk + j) * vStride;
                float dot = 0f;
                float dp = 0f;
                for (int d = 0; d < hd; d++) {
                    dot += qs[d] * k.get(kj + d);
                    dp += gs[d] * v.get(vj + d);
                }
                float pj = TornadoMath.exp(dot * scale - lseI);
                dsj = pj * (dp - di) * scale;
            }
            ds[t] = dsj;
            ctx.localBarrier();
            int count = TornadoMath.min(BLOCK, tk - j0);
            for (int d = t; d < hd; d += BLOCK) {
                float a = dqa[d];
                for (int u = 0; u < count; u++) {
                    a += ds[u] * k.get(kOff + (b * tk + j0 + u) * kStride + d);
                }
                dqa[d] = a;
            }
            ctx.localBarrier();
        }
        int dqi = p.get(DQ_OFF) + (b * tq + i) * p.get(DQ_STRIDE) + h * hd;
        for (int d = t; d < hd; d += BLOCK) {
            dq.set(dqi + d, dqa[d]);
        }
    }

    /**
     * Pass 2 of the backward: dk and dv, one work-group per key row. With p[DKV_SHARED] == 1, dk and dv are views
     * of one buffer (packed qkv gradients): dv is then written into dk's array at DV_OFF and the dv argument is
     * a dummy. TornadoVM must not see one array as two written arguments of a task: its graph builder makes the
     * task depend on itself and its scheduler never finishes (TornadoVM 5.2).
     */
    public static void backwardKey(KernelContext ctx, FloatArray q, FloatArray k, FloatArray v, FloatArray dout,
                                   FloatArray lse, FloatArray delta, FloatArray dk, FloatArray dv, IntArray p, float scale) {
        int t = ctx.localIdx;
        int heads = p.get(HEADS);
        int tq = p.get(TQ);
        int tk = p.get(TK);
        int hd = p.get(HD);
        int row = ctx.groupIdx; // (b * heads + h) * tk + j
        int j = row % tk;
        int h = (row / tk) % heads;
        int b = row / (tk * heads);

        float[] ks = ctx.allocateFloatLocalArray(MAX_HEAD_DIM);
        float[] vs = ctx.allocateFloatLocalArray(MAX_HEAD_DIM);
        float[] dka = ctx.allocateFloatLocalArray(MAX_HEAD_DIM);
        float[] dva = ctx.allocateFloatLocalArray(MAX_HEAD_DIM);
        float[] pb = ctx.allocateFloatLocalArray(BLOCK);
        float[] ds = ctx.allocateFloatLocalArray(BLOCK);

        int kj = p.get(K_OFF) + (b * tk + j) * p.get(K_STRIDE) + h * hd;
        int vj = p.get(V_OFF) + (b * tk + j) * p.get(V_STRIDE) + h * hd;
        for (int d = t; d < hd; d += BLOCK) {
            ks[d] = k.get(kj + d);
            vs[d] = v.get(vj + d);
            dka[d] = 0f;
            dva[d] = 0f;
        }
        ctx.localBarrier();

        int qOff = p.get(Q_OFF) + h * hd;
        int qStride = p.get(Q_STRIDE);
        int gOff = p.get(DO_OFF) + h * hd;
        int gStride = p.get(DO_STRIDE);
        int statBase = (b * heads + h) * tq;
        for (int i0 = 0; i0 < tq; i0 += BLOCK) {
            int i = i0 + t;
            float pi = 0f;
            float dsi = 0f;
            if (i < tq) {
                int qi = qOff + (b * tq + i) * qStride;
                int gi = gOff + (b * tq + i) * gStride;
                float dot = 0f;
                float dp = 0f;
                for (int d = 0; d < hd; d++) {
                    dot += q.get(qi + d) * ks[d];
                    dp += dout.get(gi + d) * vs[d];
                }
                pi = TornadoMath.exp(dot * scale - lse.get(statBase + i));
                dsi = pi * (dp - delta.get(statBase + i)) * scale;
            }
            pb[t] = pi;
            ds[t] = dsi;
            ctx.localBarrier();
            int count = TornadoMath.min(BLOCK, tq - i0);
            for (int d = t; d < hd; d += BLOCK) {
                float ak = dka[d];
                float av = dva[d];
                for (int u = 0; u < count; u++) {
                    int r = b * tq + i0 + u;
                    ak += ds[u] * q.get(qOff + r * qStride + d);
                    av += pb[u] * dout.get(gOff + r * gStride + d);
                }
                dka[d] = ak;
                dva[d] = av;
            }
            ctx.localBarrier();
        }
        int dki = p.get(DK_OFF) + (b * tk + j) * p.get(DK_STRIDE) + h * hd;
        int dvi = p.get(DV_OFF) + (b * tk + j) * p.get(DV_STRIDE) + h * hd;
        int shared = p.get(DKV_SHARED);
        for (int d = t; d < hd; d += BLOCK) {
            dk.set(dki + d, dka[d]);
            if (shared == 1) {
                dk.set(dvi + d, dva[d]);
            } else {
                dv.set(dvi + d, dva[d]);
            }
        }
    }
}
