package org.maejvm.bench;

import org.maejvm.ops.Backend;
import org.maejvm.ops.Backends;
import org.maejvm.ops.ReferenceBackend;
import org.maejvm.simd.SimdBackend;
import org.maejvm.tornado.TornadoDevices;

/**
 * The backends a benchmark can measure, by name: {@code reference}, {@code simd}, {@code tornado} (TornadoVM's
 * device 0) or {@code tornado:N} (device N as {@code mae devices} numbers them). The TornadoVM ones need the
 * TornadoVM SDK and its JVM flags (docs/TORNADO.md) and say so when they are missing.
 */
public final class BenchBackends {
    private BenchBackends() {}

    static final String VALID = "reference, simd, tornado or tornado:N (TornadoVM device N, see 'mae devices')";

    /** Whether spec names a TornadoVM device (threads do not apply there). */
    public static boolean isDevice(String spec) {
        return spec.equals("tornado") || spec.startsWith("tornado:");
    }

    /** The device number of a tornado spec ("tornado" is device 0), with an error naming the bad part. */
    public static int device(String spec) {
        if (spec.equals("tornado")) return 0;
        String n = spec.substring("tornado:".length());
        try {
            int d = Integer.parseInt(n);
            if (d >= 0) return d;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("backend '" + spec + "': the device must be a number >= 0 (tornado:N)");
    }

    /** Throws unless spec is a backend name this class opens. */
    public static void check(String spec) {
        if (isDevice(spec)) {
            device(spec);
        } else if (!spec.equals("reference") && !spec.equals("simd")) {
            throw new IllegalArgumentException("unknown backend '" + spec + "'; valid: " + VALID);
        }
    }

    /**
     * Opens the backend; threads applies to the CPU backends only. Names other than these three go to
     * {@link Backends#create} (backends registered by other modules).
     */
    public static Backend open(String spec, int threads) {
        if (isDevice(spec)) return TornadoDevices.open(device(spec));
        return switch (spec) {
            case "reference" -> new ReferenceBackend();
            case "simd" -> new SimdBackend(threads);
            default -> Backends.create(spec, threads);
        };
    }

    /** "tornado device 0: NAME" for a device backend, else the name: what a benchmark's log line says it ran on. */
    public static String describe(String spec, Backend opened) {
        if (!isDevice(spec)) return spec;
        return "tornado device " + device(spec) + ": " + ((org.maejvm.tornado.TornadoBackend) opened).deviceName();
    }
}
