package uk.ac.manchester.tornado.api.types.arrays;

import java.lang.foreign.MemorySegment;

/** Emulation: TornadoVM's float array, here a heap array (one memory, so transfers copy nothing). */
public final class FloatArray {
    private final float[] data;

    public FloatArray(int numberOfElements) {
        if (numberOfElements < 0) throw new IllegalArgumentException("FloatArray size must be >= 0, got " + numberOfElements);
        data = new float[numberOfElements];
    }

    public static FloatArray fromArray(float[] values) {
        FloatArray a = new FloatArray(values.length);
        System.arraycopy(values, 0, a.data, 0, values.length);
        return a;
    }

    public float get(int index) { return data[index]; }

    public void set(int index, float value) { data[index] = value; }

    public int getSize() { return data.length; }

    public void init(float value) { java.util.Arrays.fill(data, value); }

    public void clear() { init(0f); }

    public float[] toHeapArray() { return data.clone(); }

    /** The elements without TornadoVM's header, as MemorySegment.copy reads and writes them. */
    public MemorySegment getSegment() { return MemorySegment.ofArray(data); }
}
