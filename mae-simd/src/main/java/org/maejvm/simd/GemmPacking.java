package org.maejvm.simd;

import static org.maejvm.simd.GemmKernel.L;
import static org.maejvm.simd.GemmKernel.MR;
import static org.maejvm.simd.GemmKernel.NR;
import static org.maejvm.simd.GemmKernel.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Copies blocks of op(A) and op(B) into the micro-kernel's panel layout. The transposes are resolved here, so one
 * kernel serves NN, NT, TN and TT. Rows (of A) and columns (of B) past the matrix edge are packed as zeros, so
 * edge tiles run the same kernel.
 */
final class GemmPacking {
    private GemmPacking() {}

    /** MR floats: one k step of an A micro-panel. */
    private static final VectorSpecies<Float> S_MR = FloatVector.SPECIES_128;

    /**
     * Packs rows [i0, i0 + rows) x depth [p0, p0 + kc) of alpha * op(A) as ceil(rows / MR) micro-panels from
     * dst[d], each kc steps of MR values: dst[d + q * kc * MR + p * MR + r] = alpha * op(A)[i0 + q * MR + r, p0 + p].
     * Folding alpha in here keeps the kernel's store to acc + beta * C.
     */
    static void packA(boolean transA, float[] a, int oa, int lda, int i0, int rows, int p0, int kc, float alpha,
                      float[] dst, int d) {
        if (transA) {
            packATransposed(a, oa + p0 * lda + i0, lda, rows, kc, alpha, dst, d);
            return;
        }
        for (int q = 0; q * MR < rows; q++, d += kc * MR) {
            int mr = Math.min(MR, rows - q * MR);
            int src = oa + (i0 + q * MR) * lda + p0;
            if (mr == MR) {
                packARows(a, src, lda, kc, alpha, dst, d);
            } else {
                packARowsEdge(a, src, lda, mr, kc, alpha, dst, d);
            }
        }
    }

    /**
     * op(A) = A^T: a k step of a micro-panel is MR contiguous floats of one row of A. Rows of A are read whole,
     * once, and dealt out to the panels (reading panel by panel would fetch each cache line MR times).
     */
    private static void packATransposed(float[] a, int src, int lda, int rows, int kc, float alpha,
                                        float[] dst, int d) {
        int full = rows / MR * MR;
        int panelStride = kc * MR;
        for (int p = 0; p < kc; p++, src += lda) {
            int o = d + p * MR;
            int r = 0;
            for (; r < full; r += MR, o += panelStride) {
                FloatVector.fromArray(S_MR, a, src + r).mul(alpha).intoArray(dst, o);
            }
            if (r < rows) {
                int j = 0;
                for (; r + j < rows; j++) dst[o + j] = alpha * a[src + r + j];
                for (; j < MR; j++) dst[o + j] = 0f;
            }
        }
    }

    /** op(A) = A, a full panel: walk the MR rows side by side so the writes are sequential. */
    private static void packARows(float[] a, int src, int lda, int kc, float alpha, float[] dst, int d) {
        int s0 = src, s1 = src + lda, s2 = src + 2 * lda, s3 = src + 3 * lda;
        for (int p = 0; p < kc; p++, d += MR) {
            dst[d] = alpha * a[s0 + p];
            dst[d + 1] = alpha * a[s1 + p];
            dst[d + 2] = alpha * a[s2 + p];
            dst[d + 3] = alpha * a[s3 + p];
        }
    }

    private static void packARowsEdge(float[] a, int src, int lda, int mr, int kc, float alpha, float[] dst, int d) {
        for (int p = 0; p < kc; p++, d += MR) {
            int r = 0;
            for (; r < mr; r++) dst[d + r] = alpha * a[src + r * lda + p];
            for (; r < MR; r++) dst[d + r] = 0f;
        }
    }

    /**
     * Packs micro-panels [q0, q1) of depth [p0, p0 + kc) x columns [j0, j0 + cols) of op(B), each kc steps of NR
     * values: dst[q * kc * NR + p * NR + j] = op(B)[p0 + p, j0 + q * NR + j]. Panels are numbered within the block,
     * so threads can pack disjoint panel ranges of one shared buffer.
     */
    static void packB(boolean transB, float[] b, int ob, int ldb, int j0, int cols, int p0, int kc,
                      int q0, int q1, float[] dst) {
        for (int q = q0; q < q1; q++) {
            int d = q * kc * NR;
            int nr = Math.min(NR, cols - q * NR);
            int col0 = j0 + q * NR;
            if (transB) {
                packBRows(b, ob + col0 * ldb + p0, ldb, nr, kc, dst, d);
            } else if (nr == NR) {
                packBColumns(b, ob + p0 * ldb + col0, ldb, kc, dst, d);
            } else {
                packBColumnsEdge(b, ob + p0 * ldb + col0, ldb, nr, kc, dst, d);
            }
        }
    }

    /** op(B) = B, a full panel: each k step is NR contiguous floats, two vector copies. */
    private static void packBColumns(float[] b, int src, int ldb, int kc, float[] dst, int d) {
        for (int p = 0; p < kc; p++, src += ldb, d += NR) {
            FloatVector.fromArray(S, b, src).intoArray(dst, d);
            FloatVector.fromArray(S, b, src + L).intoArray(dst, d + L);
        }
    }

    private static void packBColumnsEdge(float[] b, int src, int ldb, int nr, int kc, float[] dst, int d) {
        for (int p = 0; p < kc; p++, src += ldb, d += NR) {
            int j = 0;
            for (; j < nr; j++) dst[d + j] = b[src + j];
            for (; j < NR; j++) dst[d + j] = 0f;
        }
    }

    /** op(B) = B^T: column j of op(B) is a contiguous row of B; read each once, write with stride NR. */
    private static void packBRows(float[] b, int src, int ldb, int nr, int kc, float[] dst, int d) {
        int j = 0;
        for (; j < nr; j++) {
            int s = src + j * ldb;
            for (int p = 0; p < kc; p++) dst[d + p * NR + j] = b[s + p];
        }
        for (; j < NR; j++) {
            for (int p = 0; p < kc; p++) dst[d + p * NR + j] = 0f;
        }
    }
}
