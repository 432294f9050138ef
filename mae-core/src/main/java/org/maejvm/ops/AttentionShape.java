package org.maejvm.ops;

/**
 * Sizes of one multi-head attention call. Element (b, t, h, d) of q sits at
 * {@code q.offset + (b * queryLen + t) * q.stride + h * headDim + d}; k, v likewise with keyLen, and the
 * output like q. This is PyTorch's [B, T, H*D] layout, before any permute.
 */
public record AttentionShape(int batch, int heads, int queryLen, int keyLen, int headDim, float scale) {
    public AttentionShape {
        if (batch <= 0 || heads <= 0 || queryLen <= 0 || keyLen <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("attention sizes must all be positive, got batch=" + batch + " heads=" + heads
                    + " queryLen=" + queryLen + " keyLen=" + keyLen + " headDim=" + headDim);
        }
    }

    /** Self-attention with the usual 1/sqrt(headDim) scale. */
    public static AttentionShape self(int batch, int heads, int tokens, int headDim) {
        return new AttentionShape(batch, heads, tokens, tokens, headDim, (float) (1.0 / Math.sqrt(headDim)));
    }

    /** Cross-attention of queryLen queries over keyLen keys, scale 1/sqrt(headDim). */
    public static AttentionShape cross(int batch, int heads, int queryLen, int keyLen, int headDim) {
        return new AttentionShape(batch, heads, queryLen, keyLen, headDim, (float) (1.0 / Math.sqrt(headDim)));
    }

    public int width() { return heads * headDim; }
}
