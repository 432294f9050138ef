package uk.ac.manchester.tornado.api.common;

/** Emulation: the part of TornadoVM's device interface the backend reads. */
public interface TornadoDevice {
    String getDeviceName();

    String getDescription();

    String getPlatformName();

    long getMaxGlobalMemory();
}
