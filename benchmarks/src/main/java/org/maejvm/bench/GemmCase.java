package org.maejvm.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A GEMM of a Linear layer: batch rows M, in-features K, out-features N, weight W stored [N, K] as PyTorch.
 * The three forms a Linear layer runs give different (m, n, k) and transposes for the same 2·M·K·N flops.
 */
public record GemmCase(int bigM, int bigK, int bigN, Form form) {

    public enum Form {
        /** Y[M,N] = X[M,K] · Wᵀ */
        FWD("fwd", false, true),
        /** dX[M,K] = dY[M,N] · W */
        DX("dX", false, false),
        /** dW[N,K] = dYᵀ · X, dY stored [M,N] and X [M,K] */
        DW("dW", true, false);

        public final String label;
        public final boolean transA, transB;

        Form(String label, boolean transA, boolean transB) {
            this.label = label;
            this.transA = transA;
            this.transB = transB;
        }

        public String blasName() {
            return (transA ? "T" : "N") + (transB ? "T" : "N");
        }
    }

    public int m() { return form == Form.DW ? bigN : bigM; }

    public int n() { return form == Form.FWD ? bigN : bigK; }

    public int k() { return form == Form.FWD ? bigK : form == Form.DX ? bigN : bigM; }

    public boolean transA() { return form.transA; }

    public boolean transB() { return form.transB; }

    /** Stored A is (transA ? k x m : m x k), so its leading dimension is its column count. */
    public int lda() { return transA() ? m() : k(); }

    public int ldb() { return transB() ? k() : n(); }

    public double flops() { return 2.0 * bigM * bigK * bigN; }

    /** "400x768x2304 fwd NT" (M x K x N of the layer, then the form and BLAS transposes). */
    public String shape() {
        return String.format(Locale.ROOT, "%dx%dx%d %s %s", bigM, bigK, bigN, form.label, form.blasName());
    }

    /** The square 1024³ yardstick and the ViT-B Linear layers: qkv (400 tokens), fc1 and fc2 (1568 tokens). */
    public static List<GemmCase> standard(OpCases.Size size) {
        return cases(switch (size) {
            case FULL -> new int[][] {{1024, 1024, 1024}, {400, 768, 2304}, {1568, 768, 3072}, {1568, 3072, 768}};
            case QUICK -> new int[][] {{1024, 1024, 1024}, {400, 768, 2304}};
            case TINY -> TINY;
        });
    }

    /** Small enough for the scalar reference backend (about a second in all). */
    public static List<GemmCase> forReference(OpCases.Size size) {
        return cases(size == OpCases.Size.TINY ? TINY : new int[][] {{256, 256, 256}});
    }

    /**
     * Layers written "MxKxN" (e.g. "544x384x1536"), each in its three forms; names the bad one and the format
     * otherwise.
     */
    public static List<GemmCase> parseLayers(List<String> layers) {
        List<int[]> dims = new ArrayList<>();
        for (String layer : layers) {
            String[] parts = layer.trim().toLowerCase(Locale.ROOT).split("x");
            int[] d = new int[3];
            boolean ok = parts.length == 3;
            for (int i = 0; ok && i < 3; i++) {
                try {
                    d[i] = Integer.parseInt(parts[i]);
                    ok = d[i] > 0;
                } catch (NumberFormatException e) {
                    ok = false;
                }
            }
            if (!ok) {
                throw new IllegalArgumentException("GEMM layer '" + layer + "' is not MxKxN with positive integers "
                        + "(rows x in-features x out-features, e.g. 544x384x1536)");
            }
            dims.add(d);
        }
        if (dims.isEmpty()) throw new IllegalArgumentException("no GEMM layer given (MxKxN, e.g. 544x384x1536)");
        return cases(dims.toArray(new int[0][]));
    }

    /** Odd sizes that are no multiple of a vector or a register block. */
    private static final int[][] TINY = {{37, 96, 83}};

    private static List<GemmCase> cases(int[][] layers) {
        List<GemmCase> out = new ArrayList<>();
        for (int[] l : layers) {
            for (Form f : Form.values()) out.add(new GemmCase(l[0], l[1], l[2], f));
        }
        return out;
    }
}
