package org.maejvm.tornado;

import java.util.ArrayList;
import java.util.List;
import org.maejvm.ops.Backend;
import uk.ac.manchester.tornado.api.TornadoBackend;
import uk.ac.manchester.tornado.api.TornadoRuntime;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider;

/**
 * The devices TornadoVM sees, numbered across its backends (OpenCL, PTX, SPIR-V...) in the order it lists them;
 * {@code --device N} picks number N. Whether the TornadoVM runtime is installed at all is decided by looking for
 * its runtime class, never by touching the API first (which would fail to initialise without it).
 */
public final class TornadoDevices {
    private TornadoDevices() {}

    /** The class only a TornadoVM installation (its runtime jar and JVM flags) provides. */
    static final String RUNTIME_CLASS = "uk.ac.manchester.tornado.runtime.TornadoCoreRuntime";

    /**
     * One device: its number for --device, TornadoVM's backend name, the hardware's name as the driver reports it,
     * its platform (the OpenCL platform, e.g. "Portable Computing Language"), TornadoVM's own id for it
     * ("opencl-0-0") and its global memory.
     */
    public record Device(int number, String backend, String name, String platform, String tornadoId, long globalMemoryBytes) {
        @Override
        public String toString() {
            return "[" + number + "] " + name + " (" + backend + ", " + platform + ", " + tornadoId + ", "
                    + globalMemoryBytes / (1024 * 1024) + " MiB)";
        }
    }

    /** The hardware name, falling back to TornadoVM's id where a driver reports none. */
    static String hardwareName(TornadoDevice device) {
        String name = device.getPhysicalDevice() == null ? null : device.getPhysicalDevice().getDeviceName();
        return name == null || name.isBlank() ? device.getDeviceName() : name.trim();
    }

    /** Whether the TornadoVM runtime is on this JVM's class path. */
    public static boolean runtimeInstalled() {
        try {
            Class.forName(RUNTIME_CLASS, false, TornadoDevices.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Why the backend cannot run here, or null when it can. */
    public static String unavailableReason() {
        if (!runtimeInstalled()) return NOT_INSTALLED;
        try {
            if (list().isEmpty()) return "TornadoVM found no device (no OpenCL, PTX or SPIR-V driver reports one)";
        } catch (RuntimeException | LinkageError e) {
            return "TornadoVM could not start: " + e;
        }
        return null;
    }


    /** What users see without a TornadoVM installation. */
    public static final String NOT_INSTALLED = "TornadoVM is not installed: install the TornadoVM SDK and run with its "
            + "JVM flags (java @$TORNADOVM_HOME/tornado-argfile ...); see README, 'GPU backend (TornadoVM)'";

    /** The devices of the TornadoVM runtime on the class path (the real one, or the tests' emulation). */
    public static List<Device> list() {
        TornadoRuntime runtime = TornadoRuntimeProvider.getTornadoRuntime();
        List<Device> out = new ArrayList<>();
        for (int b = 0; b < runtime.getNumBackends(); b++) {
            TornadoBackend backend = runtime.getBackend(b);
            for (int d = 0; d < backend.getNumDevices(); d++) {
                TornadoDevice device = backend.getDevice(d);
                out.add(new Device(out.size(), backend.getName(), hardwareName(device), device.getPlatformName().trim(),
                        device.getDeviceName(), device.getMaxGlobalMemory()));
            }
        }
        return out;
    }

    /**
     * The TornadoVM backend on device number {@code device} (as {@link #list()} numbers them), or an error that
     * says why it cannot run here: TornadoVM not installed, no device, or no such device number. Safe to call in a
     * JVM without TornadoVM (it checks before the backend class is linked).
     */
    public static Backend open(int device) {
        String why = unavailableReason();
        if (why != null) throw new IllegalStateException(why);
        return new org.maejvm.tornado.TornadoBackend(device); // not the TornadoVM interface imported above
    }

    /** Device number n, with an error listing the valid numbers. */
    static TornadoDevice select(int n) {
        TornadoRuntime runtime = TornadoRuntimeProvider.getTornadoRuntime();
        int seen = 0;
        for (int b = 0; b < runtime.getNumBackends(); b++) {
            TornadoBackend backend = runtime.getBackend(b);
            if (n < seen + backend.getNumDevices()) {
                if (n < 0) break;
                return backend.getDevice(n - seen);
            }
            seen += backend.getNumDevices();
        }
        if (seen == 0) throw new IllegalArgumentException("TornadoVM found no device");
        throw new IllegalArgumentException("no TornadoVM device " + n + "; devices are numbered 0 to " + (seen - 1)
                + " (see 'mae devices')");
    }
}
