package uk.ac.manchester.tornado.api.types.arrays;

import java.lang.foreign.MemorySegment;

/** Emulation: TornadoVM's int array, here a heap array. */
public final class IntArray {
    private final int[] data;

    public IntArray(int numberOfElements) {
        if (numberOfElements < 0) throw new IllegalArgumentException("IntArray size must be >= 0, got " + numberOfElements);
        data = new int[numberOfElements];
    }

    public static IntArray fromArray(int[] values) {
        IntArray a = new IntArray(values.length);
        System.arraycopy(values, 0, a.data, 0, values.length);
        return a;
    }

    public int get(int index) { return data[index]; }

    public void set(int index, int value) { data[index] = value; }

    public int getSize() { return data.length; }

    public void init(int value) { java.util.Arrays.fill(data, value); }

    public void clear() { init(0); }

    public int[] toHeapArray() { return data.clone(); }

    public MemorySegment getSegment() { return MemorySegment.ofArray(data); }
}
