package org.maejvm.simd;

/**
 * Row-major sgemm on the Vector API. Placeholder: straightforward loops, to be replaced by the packed,
 * register-blocked kernel.
 */
public final class SimdGemm {
    private SimdGemm() {}

    /** Same contract as {@code Backend.gemmBatched}; arguments are already checked. */
    public static void gemm(ThreadPool pool, boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int offA, int lda, int strideA, float[] b, int offB, int ldb, int strideB,
                            float beta, float[] c, int offC, int ldc, int strideC, int batch) {
        for (int p = 0; p < batch; p++) {
            int oa = offA + p * strideA, ob = offB + p * strideB, oc = offC + p * strideC;
            pool.parallelFor(m, i -> {
                for (int j = 0; j < n; j++) {
                    float acc = 0;
                    for (int l = 0; l < k; l++) {
                        float av = transA ? a[oa + l * lda + i] : a[oa + i * lda + l];
                        float bv = transB ? b[ob + j * ldb + l] : b[ob + l * ldb + j];
                        acc += av * bv;
                    }
                    int ci = oc + i * ldc + j;
                    c[ci] = alpha * acc + (beta == 0f ? 0f : beta * c[ci]);
                }
            });
        }
    }
}
