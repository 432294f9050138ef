package uk.ac.manchester.tornado.api;

import uk.ac.manchester.tornado.api.common.TornadoDevice;

/** Emulation: one TornadoVM backend (OpenCL, PTX, SPIR-V...) and its devices. */
public interface TornadoBackend {
    int getNumDevices();

    TornadoDevice getDevice(int index);

    String getName();
}
