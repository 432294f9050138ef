package org.maejvm.cli;

import org.maejvm.ops.Backend;
import org.maejvm.ops.Backends;
import org.maejvm.tornado.TornadoDevices;

/**
 * Opens the backend a command line names. {@code --backend tornado --device N} arrives here as "tornado:N"
 * ({@link #withDevice}), which users may also type directly; CPU backends take --threads instead.
 */
final class CliBackends {
    private CliBackends() {}

    /** The backend name with a device number attached ("tornado:1"); 0, the default device, is left implicit. */
    static String withDevice(String name, int device) {
        if (device < 0) throw new IllegalArgumentException("--device must be >= 0 (see 'mae devices'), got " + device);
        return device == 0 ? name : name + ":" + device;
    }

    static Backend open(String spec, int threads) {
        int colon = spec.indexOf(':');
        String name = colon < 0 ? spec : spec.substring(0, colon);
        int device = 0;
        if (colon >= 0) {
            try {
                device = Integer.parseInt(spec.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("backend '" + spec + "': expected NAME or tornado:DEVICE (a number)");
            }
        }
        if (name.equalsIgnoreCase("tornado")) return TornadoDevices.open(device);
        if (colon >= 0) {
            throw new IllegalArgumentException("--device applies to --backend tornado only (backend '" + name
                    + "' runs on this machine's CPU cores; see --threads)");
        }
        return Backends.create(name, threads);
    }
}
