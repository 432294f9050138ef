package org.maejvm.tornado;

import org.maejvm.tensor.DType;
import org.maejvm.tensor.Tensor;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * A tensor of the TornadoVM backend: a TornadoVM array, which each kernel's task graph copies to the device and
 * back (KernelPlans). Int tensors (masking indices) are only ever written from the host, so they also keep a
 * host copy as an int[], which the backend uses to check indices before a gather or scatter (a kernel cannot
 * throw).
 */
final class TornadoTensor extends Tensor {
    final FloatArray floats;
    final IntArray ints;
    final int[] hostInts;

    private TornadoTensor(DType dtype, int[] shape, FloatArray floats, IntArray ints, int[] hostInts) {
        super(dtype, shape);
        this.floats = floats;
        this.ints = ints;
        this.hostInts = hostInts;
    }

    static TornadoTensor zeros(int[] shape) {
        int n = org.maejvm.tensor.Shapes.size(shape);
        // TornadoVM arrays of length 0 are not allowed; one spare element keeps empty tensors legal
        FloatArray a = new FloatArray(Math.max(1, n));
        a.init(0f);
        return new TornadoTensor(DType.F32, shape, a, null, null);
    }

    static TornadoTensor zerosInt(int[] shape) {
        int n = org.maejvm.tensor.Shapes.size(shape);
        IntArray a = new IntArray(Math.max(1, n));
        a.init(0);
        return new TornadoTensor(DType.I32, shape, null, a, new int[n]);
    }

    /** The buffer this tensor lives in. */
    Object buffer() { return floats != null ? floats : ints; }

    @Override
    protected Tensor withShape(int[] newShape) {
        return new TornadoTensor(dtype(), newShape, floats, ints, hostInts);
    }

    @Override
    public boolean sharesStorageWith(Tensor other) {
        return other instanceof TornadoTensor t && t.buffer() == buffer();
    }
}
