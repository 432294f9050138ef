package org.maejvm.tensor;

import java.util.Arrays;

/**
 * A shape plus storage owned by a backend: row-major, contiguous, float32 or int32.
 *
 * <p>The core never reads a tensor's elements directly; it goes through {@code Backend.toHost} /
 * {@code Backend.fromHost}. Ops that see a tensor as a matrix take its last dimension as the row length.
 */
public abstract class Tensor {
    private final int[] shape;
    private final DType dtype;
    private final int size;

    protected Tensor(DType dtype, int[] shape) {
        this.dtype = dtype;
        this.shape = shape.clone();
        this.size = Shapes.size(shape);
    }

    public final DType dtype() { return dtype; }

    public final int[] shape() { return shape.clone(); }

    public final int rank() { return shape.length; }

    public final int dim(int axis) {
        return shape[axis < 0 ? shape.length + axis : axis];
    }

    /** Number of elements. */
    public final int size() { return size; }

    /** Length of the last dimension (1 for a scalar). */
    public final int cols() { return shape.length == 0 ? 1 : shape[shape.length - 1]; }

    /** Product of all but the last dimension. */
    public final int rows() { return size / Math.max(1, cols()); }

    /** The same storage under another shape with the same number of elements. */
    public final Tensor view(int... newShape) {
        if (Shapes.size(newShape) != size) {
            throw new IllegalArgumentException("cannot view a tensor of shape " + Arrays.toString(shape)
                    + " (" + size + " elements) as " + Arrays.toString(newShape));
        }
        return withShape(newShape);
    }

    protected abstract Tensor withShape(int[] newShape);

    /** True when both tensors are backed by the same storage (views of one another). */
    public abstract boolean sharesStorageWith(Tensor other);

    @Override
    public String toString() {
        return dtype + Arrays.toString(shape);
    }
}
