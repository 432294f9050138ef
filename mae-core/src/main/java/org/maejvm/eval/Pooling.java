package org.maejvm.eval;

import java.util.Locale;

/**
 * How an image's encoder tokens become one feature vector. The tokens are the encoder output after its final
 * norm, {@code [1 + L, D]} with the cls token first.
 */
public enum Pooling {
    /** The cls token: what the official linear probe ({@code global_pool=False}) classifies. */
    CLS,
    /** The mean of the L patch tokens (the cls token left out, as the official {@code global_pool}). */
    MEAN;

    /** {@code cls} or {@code mean}, case-insensitive, with an error that names the valid values. */
    public static Pooling parse(String name) {
        for (Pooling p : values()) {
            if (p.name().equalsIgnoreCase(name.trim())) return p;
        }
        throw new IllegalArgumentException("unknown pooling '" + name + "'; use cls or mean");
    }

    public String label() { return name().toLowerCase(Locale.ROOT); }

    /**
     * Pools {@code batch} images of {@code tokens} rows of {@code dim} floats each from {@code latent} (laid out
     * {@code [batch, tokens, dim]}) into {@code out[offset + i * dim ..]}.
     */
    public void pool(float[] latent, int batch, int tokens, int dim, float[] out, int offset) {
        if (tokens < 2 || (long) latent.length < (long) batch * tokens * dim) {
            throw new IllegalArgumentException("latent of " + latent.length + " floats is not [" + batch + ", "
                    + tokens + " (cls + patches), " + dim + "]");
        }
        for (int i = 0; i < batch; i++) {
            int src = i * tokens * dim;
            int dst = offset + i * dim;
            if (this == CLS) {
                System.arraycopy(latent, src, out, dst, dim);
                continue;
            }
            double[] sum = new double[dim];
            for (int t = 1; t < tokens; t++) {
                int row = src + t * dim;
                for (int d = 0; d < dim; d++) sum[d] += latent[row + d];
            }
            for (int d = 0; d < dim; d++) out[dst + d] = (float) (sum[d] / (tokens - 1));
        }
    }
}
