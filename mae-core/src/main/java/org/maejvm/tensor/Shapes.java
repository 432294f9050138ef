package org.maejvm.tensor;

import java.util.Arrays;

/** Small helpers for shape arithmetic and shape errors. */
public final class Shapes {
    private Shapes() {}

    public static int size(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n *= d;
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has " + n
                    + " elements, more than one tensor can hold (" + (Integer.MAX_VALUE - 8) + ")");
        }
        return (int) n;
    }

    public static String str(int... shape) {
        return Arrays.toString(shape);
    }
}
