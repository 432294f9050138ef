package org.maejvm.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import org.maejvm.tensor.HostTensor;

/**
 * Turns raw little- or big-endian bytes into a {@link HostTensor}: contiguous runs are bulk-copied, strided views
 * (PyTorch's storage + offset + size + stride) are gathered element by element.
 */
final class TensorDecoder {
    private TensorDecoder() {}

    /** Largest element count a Java array (and so a HostTensor) can hold. */
    static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    /**
     * Element count of a shape, or an error naming the tensor when a dimension is negative or the count does not fit
     * one Java array.
     */
    static int elementCount(Path file, String tensor, long[] shape) throws MalformedWeightsException {
        long n = 1;
        boolean tooMany = false;
        boolean empty = false;
        for (long d : shape) {
            if (d < 0) {
                throw new MalformedWeightsException(file, "tensor '" + tensor + "' has a negative dimension in shape "
                        + Arrays.toString(shape) + "; dimensions must be >= 0");
            }
            if (d == 0) empty = true;
            else if (n > MAX_ELEMENTS / d) tooMany = true;
            else n *= d;
        }
        if (empty) return 0;
        if (tooMany) {
            throw new MalformedWeightsException(file, "tensor '" + tensor + "' of shape " + Arrays.toString(shape)
                    + " has more than " + MAX_ELEMENTS + " elements, more than one JVM array can hold");
        }
        return (int) n;
    }

    static int[] toIntShape(long[] shape) {
        int[] s = new int[shape.length];
        for (int i = 0; i < shape.length; i++) s[i] = (int) shape[i];
        return s;
    }

    /** True when the strides describe the row-major layout of the shape (size-1 dimensions may have any stride). */
    static boolean isContiguous(long[] shape, long[] stride) {
        long expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && stride[d] != expected) return false;
            expected *= shape[d];
        }
        return true;
    }

    /**
     * Decodes {@code shape} elements starting at element {@code offset} of {@code seg}, stepping by {@code stride}
     * (in elements). The caller has checked that every addressed element lies inside {@code seg}.
     */
    static HostTensor decode(Path file, String tensor, WeightDType dt, MemorySegment seg, ByteOrder order,
                             long offset, long[] shape, long[] stride) throws MalformedWeightsException {
        int n = elementCount(file, tensor, shape);
        int[] intShape = toIntShape(shape);
        if (isContiguous(shape, stride)) {
            return decodeContiguous(file, tensor, dt, seg, order, offset * dt.size, n, intShape);
        }
        Reader r = new Reader(file, tensor, dt, seg, order);
        int rank = shape.length;
        int[] idx = new int[rank];
        long pos = offset;
        if (dt.floating) {
            float[] out = allocFloats(file, tensor, n);
            for (int i = 0; i < n; i++) {
                out[i] = r.floatAt(pos);
                pos = step(idx, pos, intShape, stride);
            }
            return new HostTensor(out, intShape);
        }
        int[] out = allocInts(file, tensor, n);
        for (int i = 0; i < n; i++) {
            out[i] = r.intAt(pos);
            pos = step(idx, pos, intShape, stride);
        }
        return new HostTensor(out, intShape);
    }

    /** Advances a row-major odometer over the shape and returns the next storage element index. */
    private static long step(int[] idx, long pos, int[] shape, long[] stride) {
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d]++;
            pos += stride[d];
            if (idx[d] < shape[d]) return pos;
            pos -= stride[d] * shape[d];
            idx[d] = 0;
        }
        return pos;
    }

    /** Decodes {@code n} consecutive elements starting at byte {@code byteOffset}. */
    static HostTensor decodeContiguous(Path file, String tensor, WeightDType dt, MemorySegment seg, ByteOrder order,
                                       long byteOffset, int n, int[] shape) throws MalformedWeightsException {
        if (dt == WeightDType.F32) {
            float[] out = allocFloats(file, tensor, n);
            MemorySegment.copy(seg, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(order), byteOffset, out, 0, n);
            return new HostTensor(out, shape);
        }
        if (dt == WeightDType.I32) {
            int[] out = allocInts(file, tensor, n);
            MemorySegment.copy(seg, ValueLayout.JAVA_INT_UNALIGNED.withOrder(order), byteOffset, out, 0, n);
            return new HostTensor(out, shape);
        }
        Reader r = new Reader(file, tensor, dt, seg.asSlice(byteOffset, (long) n * dt.size), order);
        if (dt.floating) {
            float[] out = allocFloats(file, tensor, n);
            for (int i = 0; i < n; i++) out[i] = r.floatAt(i);
            return new HostTensor(out, shape);
        }
        int[] out = allocInts(file, tensor, n);
        for (int i = 0; i < n; i++) out[i] = r.intAt(i);
        return new HostTensor(out, shape);
    }

    static float[] allocFloats(Path file, String tensor, int n) throws MalformedWeightsException {
        checkHeap(file, tensor, 4L * n);
        try {
            return new float[n];
        } catch (OutOfMemoryError e) {
            throw tooBig(file, "tensor '" + tensor + "'", 4L * n);
        }
    }

    static int[] allocInts(Path file, String tensor, int n) throws MalformedWeightsException {
        checkHeap(file, tensor, 4L * n);
        try {
            return new int[n];
        } catch (OutOfMemoryError e) {
            throw tooBig(file, "tensor '" + tensor + "'", 4L * n);
        }
    }

    /** Refuses an allocation that cannot succeed, before trying it (a hostile shape must not cost a full GC). */
    static void checkHeap(Path file, String what, long bytes) throws MalformedWeightsException {
        if (bytes > Runtime.getRuntime().maxMemory()) throw tooBig(file, what, bytes);
    }

    private static MalformedWeightsException tooBig(Path file, String what, long bytes) {
        return new MalformedWeightsException(file, what + " needs " + bytes
                + " bytes of heap, more than this JVM can allocate (max heap " + Runtime.getRuntime().maxMemory()
                + " bytes); raise -Xmx");
    }

    /** Reads one element of any supported dtype as float or int. */
    private record Reader(Path file, String tensor, WeightDType dt, MemorySegment seg, ByteOrder order) {
        float floatAt(long i) {
            return switch (dt) {
                case F32 -> seg.get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(order), i * 4);
                case F64 -> (float) seg.get(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(order), i * 8);
                case F16 -> Float.float16ToFloat(seg.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(order), i * 2));
                case BF16 -> Float.intBitsToFloat(
                        (seg.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(order), i * 2) & 0xffff) << 16);
                default -> throw new IllegalStateException(dt + " is not a floating type");
            };
        }

        int intAt(long i) throws MalformedWeightsException {
            return switch (dt) {
                case I32 -> seg.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(order), i * 4);
                case I64 -> {
                    long v = seg.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(order), i * 8);
                    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                        throw new MalformedWeightsException(file, "tensor '" + tensor + "' (I64) holds " + v
                                + " at element " + i + ", outside the int32 range that integer tensors are read into");
                    }
                    yield (int) v;
                }
                case I16 -> seg.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(order), i * 2);
                case I8 -> seg.get(ValueLayout.JAVA_BYTE, i);
                case U8 -> seg.get(ValueLayout.JAVA_BYTE, i) & 0xff;
                case BOOL -> seg.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
                default -> throw new IllegalStateException(dt + " is not an integer type");
            };
        }
    }
}
