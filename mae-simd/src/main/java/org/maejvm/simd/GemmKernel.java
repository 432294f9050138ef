package org.maejvm.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-blocked micro-kernel: an MR x NR tile of C from a packed A micro-panel (MR values per k step)
 * and a packed B micro-panel (NR values per k step). NR is two vectors wide, so the tile lives in 2 * MR = 8
 * vector accumulators, which just cover the FMA latency (4 cycles) times its throughput (2 per cycle).
 *
 * <p>Why not a bigger tile: C2 issues all broadcasts of a k step before its FMAs, so a tile needs
 * accumulators + B vectors + MR broadcast registers; 8 + 2 + 4 = 14 of the 16 AVX2 registers. With 5 x 16
 * (17) or 6 x 16 (20) C2 keeps an accumulator on the stack, and the store-to-load latency of that spill then
 * bounds every k step: 6 x 16 measured at half the speed of 4 x 16.
 */
final class GemmKernel {
    private GemmKernel() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Floats per vector. */
    static final int L = S.length();
    /** Rows of the C tile (broadcast A values per k step). */
    static final int MR = 4;
    /** Columns of the C tile: two vectors. */
    static final int NR = 2 * L;

    /**
     * C[0:MR, 0:NR] (at c[cOff], row stride ldc) = acc + beta * C, where acc = sum over kc of packed A x packed B.
     * With beta == 0, C is not read.
     */
    static void tile(int kc, float[] ap, int aOff, float[] bp, int bOff, float[] c, int cOff, int ldc, float beta) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * NR;
            int ai = aOff + p * MR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector av = FloatVector.broadcast(S, ap[ai]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
        }
        // The stores are written out here rather than in a helper taking the accumulators: when C2 does not
        // inline such a helper (it may refuse once the helper has big tier-3 code of its own), every vector
        // argument is boxed, and the whole GEMM ran at a third of its speed in those JVM runs.
        int o0 = cOff, o1 = cOff + ldc, o2 = cOff + 2 * ldc, o3 = cOff + 3 * ldc;
        if (beta == 0f) {
            c00.intoArray(c, o0);
            c01.intoArray(c, o0 + L);
            c10.intoArray(c, o1);
            c11.intoArray(c, o1 + L);
            c20.intoArray(c, o2);
            c21.intoArray(c, o2 + L);
            c30.intoArray(c, o3);
            c31.intoArray(c, o3 + L);
        } else {
            // beta * C + acc in one rounding; with beta == 1 that is exactly C + acc.
            FloatVector bv = FloatVector.broadcast(S, beta);
            FloatVector.fromArray(S, c, o0).fma(bv, c00).intoArray(c, o0);
            FloatVector.fromArray(S, c, o0 + L).fma(bv, c01).intoArray(c, o0 + L);
            FloatVector.fromArray(S, c, o1).fma(bv, c10).intoArray(c, o1);
            FloatVector.fromArray(S, c, o1 + L).fma(bv, c11).intoArray(c, o1 + L);
            FloatVector.fromArray(S, c, o2).fma(bv, c20).intoArray(c, o2);
            FloatVector.fromArray(S, c, o2 + L).fma(bv, c21).intoArray(c, o2 + L);
            FloatVector.fromArray(S, c, o3).fma(bv, c30).intoArray(c, o3);
            FloatVector.fromArray(S, c, o3 + L).fma(bv, c31).intoArray(c, o3 + L);
        }
    }

    /**
     * An edge tile (mr <= MR rows, nr <= NR columns): the kernel runs on the zero-padded panels into a scratch
     * tile, and only the valid part is merged into C, so C is never touched outside the matrix.
     */
    static void edgeTile(int kc, float[] ap, int aOff, float[] bp, int bOff, float[] scratch,
                         float[] c, int cOff, int ldc, int mr, int nr, float beta) {
        tile(kc, ap, aOff, bp, bOff, scratch, 0, NR, 0f);
        for (int i = 0; i < mr; i++) {
            int ci = cOff + i * ldc, si = i * NR;
            if (beta == 0f) {
                for (int j = 0; j < nr; j++) c[ci + j] = scratch[si + j];
            } else {
                for (int j = 0; j < nr; j++) c[ci + j] = scratch[si + j] + beta * c[ci + j];
            }
        }
    }
}
