package uk.ac.manchester.tornado.api.common;

import uk.ac.manchester.tornado.api.TornadoTargetDevice;

/** Emulation: the part of TornadoVM's device interface the backend reads. */
public interface TornadoDevice {
    String getDeviceName();

    String getDescription();

    String getPlatformName();

    long getMaxGlobalMemory();

    TornadoTargetDevice getPhysicalDevice();
}
