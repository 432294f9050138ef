package org.maejvm.ops;

import org.maejvm.tensor.Tensor;

/**
 * Rows of a matrix that live inside a larger tensor: row {@code r} starts at {@code offset + r * stride}.
 * Lets attention read q, k and v straight out of a packed qkv buffer [B*T, 3C] without copies.
 */
public record RowView(Tensor tensor, int offset, int stride) {
    public RowView {
        if (tensor == null) throw new IllegalArgumentException("RowView needs a tensor");
        if (offset < 0 || stride <= 0) {
            throw new IllegalArgumentException("RowView offset must be >= 0 and stride > 0, got offset=" + offset + " stride=" + stride);
        }
    }

    /** A whole tensor seen as rows of its last dimension. */
    public static RowView of(Tensor t) {
        return new RowView(t, 0, t.cols());
    }
}
