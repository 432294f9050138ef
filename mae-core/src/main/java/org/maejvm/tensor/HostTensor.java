package org.maejvm.tensor;

/**
 * A tensor in JVM heap arrays: the storage of the CPU backends (reference and SIMD), which can therefore
 * pass tensors to each other without copies.
 */
public final class HostTensor extends Tensor {
    /** Float storage, or null for an I32 tensor. */
    public final float[] data;
    /** Int storage, or null for an F32 tensor. */
    public final int[] ints;

    public HostTensor(float[] data, int... shape) {
        super(DType.F32, shape);
        if (data.length != size()) {
            throw new IllegalArgumentException(data.length + " floats do not fill shape " + Shapes.str(shape));
        }
        this.data = data;
        this.ints = null;
    }

    public HostTensor(int[] ints, int... shape) {
        super(DType.I32, shape);
        if (ints.length != size()) {
            throw new IllegalArgumentException(ints.length + " ints do not fill shape " + Shapes.str(shape));
        }
        this.data = null;
        this.ints = ints;
    }

    public static HostTensor zeros(int... shape) {
        return new HostTensor(new float[Shapes.size(shape)], shape);
    }

    public static HostTensor zerosInt(int... shape) {
        return new HostTensor(new int[Shapes.size(shape)], shape);
    }

    /** The float array of an F32 host tensor, with a clear error for anything else. */
    public static float[] floats(Tensor t) {
        if (t instanceof HostTensor h && h.data != null) return h.data;
        throw new IllegalArgumentException("expected a float32 tensor in host memory, got " + describe(t));
    }

    /** The int array of an I32 host tensor, with a clear error for anything else. */
    public static int[] ints(Tensor t) {
        if (t instanceof HostTensor h && h.ints != null) return h.ints;
        throw new IllegalArgumentException("expected an int32 tensor in host memory, got " + describe(t));
    }

    private static String describe(Tensor t) {
        return t == null ? "null" : t + " (" + t.getClass().getSimpleName() + ")";
    }

    @Override
    protected Tensor withShape(int[] newShape) {
        return data != null ? new HostTensor(data, newShape) : new HostTensor(ints, newShape);
    }

    @Override
    public boolean sharesStorageWith(Tensor other) {
        if (!(other instanceof HostTensor h)) return false;
        return data != null ? data == h.data : ints == h.ints;
    }
}
