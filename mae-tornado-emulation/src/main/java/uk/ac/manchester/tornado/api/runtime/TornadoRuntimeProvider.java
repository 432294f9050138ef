package uk.ac.manchester.tornado.api.runtime;

import uk.ac.manchester.tornado.api.TornadoBackend;
import uk.ac.manchester.tornado.api.TornadoRuntime;
import uk.ac.manchester.tornado.api.TornadoTargetDevice;
import uk.ac.manchester.tornado.api.common.TornadoDevice;

/** Emulation: one backend with one device, the JVM itself. */
public class TornadoRuntimeProvider {
    private static final TornadoDevice DEVICE = new TornadoDevice() {
        @Override public String getDeviceName() { return "emulation-0-0"; }
        @Override public String getDescription() { return "work-groups on virtual threads, no GPU"; }
        @Override public String getPlatformName() { return "emulation"; }
        @Override public long getMaxGlobalMemory() { return Runtime.getRuntime().maxMemory(); }
        @Override public TornadoTargetDevice getPhysicalDevice() { return () -> "JVM threads (test-only emulation of the TornadoVM API)"; }
    };

    private static final TornadoBackend BACKEND = new TornadoBackend() {
        @Override public int getNumDevices() { return 1; }
        @Override public TornadoDevice getDevice(int index) {
            if (index != 0) throw new IllegalArgumentException("the emulation has one device (0), not " + index);
            return DEVICE;
        }
        @Override public String getName() { return "emulation"; }
    };

    private static final TornadoRuntime RUNTIME = new TornadoRuntime() {
        @Override public TornadoBackend getBackend(int index) {
            if (index != 0) throw new IllegalArgumentException("the emulation has one backend (0), not " + index);
            return BACKEND;
        }
        @Override public int getNumBackends() { return 1; }
    };

    public static TornadoRuntime getTornadoRuntime() { return RUNTIME; }
}
