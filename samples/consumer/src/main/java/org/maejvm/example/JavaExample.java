package org.maejvm.example;

import java.util.Random;
import org.maejvm.ops.Backend;
import org.maejvm.ops.ReferenceBackend;
import org.maejvm.simd.SimdBackend;
import org.maejvm.tensor.Tensor;

/** The same check as the Kotlin example, from Java: simd against the reference on a matmul and a layerNorm. */
public final class JavaExample {
    static final int ROWS = 33, K = 70, N = 45;

    /** y = LayerNorm(x · w) on [ROWS, N]; returns the matmul and the normalised result. */
    static float[][] matmulLayerNorm(Backend backend, float[] x, float[] w) {
        Tensor xw = backend.zeros(ROWS, N), y = backend.zeros(ROWS, N);
        backend.matmul(backend.fromHost(x, ROWS, K), backend.fromHost(w, K, N), xw);
        float[] ones = new float[N];
        java.util.Arrays.fill(ones, 1f);
        backend.layerNormForward(xw, backend.fromHost(ones, N), backend.zeros(N), 1e-6f, y,
                backend.zeros(ROWS), backend.zeros(ROWS));
        return new float[][] {backend.toHost(xw), backend.toHost(y)};
    }

    public static void main(String[] args) {
        Random random = new Random(7);
        float[] x = new float[ROWS * K], w = new float[K * N];
        for (int i = 0; i < x.length; i++) x[i] = random.nextFloat() * 2 - 1;
        for (int i = 0; i < w.length; i++) w[i] = random.nextFloat() * 2 - 1;

        float[][] got, want;
        int threads;
        try (SimdBackend simd = new SimdBackend(); ReferenceBackend reference = new ReferenceBackend()) {
            got = matmulLayerNorm(simd, x, w);
            want = matmulLayerNorm(reference, x, w);
            threads = simd.threads();
        }
        double maxDiff = 0;
        for (int t = 0; t < got.length; t++) {
            for (int i = 0; i < got[t].length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[t][i] - want[t][i]));
        }
        System.out.println("java: matmul + layerNorm on simd (" + threads + " threads), max |diff| vs reference = " + maxDiff);
        if (!(maxDiff <= 1e-4)) System.exit(1);
    }
}
