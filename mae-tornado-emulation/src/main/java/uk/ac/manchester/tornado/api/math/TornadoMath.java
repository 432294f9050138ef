package uk.ac.manchester.tornado.api.math;

/** Emulation: the float math functions kernels call, in float as on a device (java.lang.Math, rounded once). */
public final class TornadoMath {
    private TornadoMath() {}

    public static float exp(float value) { return (float) Math.exp(value); }

    public static float log(float value) { return (float) Math.log(value); }

    public static float sqrt(float value) { return (float) Math.sqrt(value); }

    public static float abs(float a) { return Math.abs(a); }

    public static float max(float a, float b) { return Math.max(a, b); }

    public static float min(float a, float b) { return Math.min(a, b); }

    public static int max(int a, int b) { return Math.max(a, b); }

    public static int min(int a, int b) { return Math.min(a, b); }
}
