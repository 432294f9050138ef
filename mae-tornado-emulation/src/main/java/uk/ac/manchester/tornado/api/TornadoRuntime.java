package uk.ac.manchester.tornado.api;

/** Emulation: TornadoVM's runtime, as far as listing backends and devices goes. */
public interface TornadoRuntime {
    TornadoBackend getBackend(int index);

    int getNumBackends();
}
