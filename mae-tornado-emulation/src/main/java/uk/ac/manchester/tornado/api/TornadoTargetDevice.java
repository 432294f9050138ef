package uk.ac.manchester.tornado.api;

/** Emulation: the driver-level device behind a TornadoDevice (its hardware name). */
public interface TornadoTargetDevice {
    String getDeviceName();
}
