package org.maejvm.parity;

/**
 * How far one computed tensor is from its expected value. {@code maxAbs} is the worst element-wise absolute
 * difference; {@code maxRel} is that difference relative to the largest expected magnitude in the tensor
 * (the infinity-norm relative error, which stays meaningful for tensors with elements near zero).
 */
public record TensorComparison(String name, int elements, double maxAbs, double maxRel, double tolerance) {

    public boolean ok() { return maxRel <= tolerance && !Double.isNaN(maxRel); }

    public static TensorComparison of(String name, float[] actual, float[] expected, double tolerance) {
        if (actual.length != expected.length) {
            return new TensorComparison(name + " (size " + actual.length + " vs expected " + expected.length + ")",
                    expected.length, Double.NaN, Double.NaN, tolerance);
        }
        double maxAbs = 0, scale = 0;
        for (int i = 0; i < actual.length; i++) {
            double d = Math.abs((double) actual[i] - expected[i]);
            if (Double.isNaN(d)) d = Double.POSITIVE_INFINITY;
            maxAbs = Math.max(maxAbs, d);
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        double rel = maxAbs == 0 ? 0 : maxAbs / Math.max(scale, Float.MIN_NORMAL);
        return new TensorComparison(name, actual.length, maxAbs, rel, tolerance);
    }
}
