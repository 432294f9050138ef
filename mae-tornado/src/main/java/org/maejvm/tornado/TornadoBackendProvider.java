package org.maejvm.tornado;

import org.maejvm.ops.Backend;
import org.maejvm.ops.BackendProvider;

/**
 * Registers the TornadoVM backend as "tornado". It is available only with the real TornadoVM runtime and at least
 * one device: the API emulation the tests run on is never offered to users.
 */
public final class TornadoBackendProvider implements BackendProvider {
    @Override
    public String name() { return "tornado"; }

    @Override
    public String describe() {
        String why = TornadoDevices.unavailableReason();
        if (why != null) return why;
        return "TornadoVM, device 0 of " + TornadoDevices.list().size() + ": " + TornadoDevices.list().get(0).name();
    }

    @Override
    public boolean available() {
        return TornadoDevices.unavailableReason() == null;
    }

    /** threads is meaningless on a device; use {@code new TornadoBackend(n)} or --device to pick another device. */
    @Override
    public Backend create(int threads) {
        String why = TornadoDevices.unavailableReason();
        if (why != null) throw new IllegalStateException(why);
        return new TornadoBackend(0);
    }
}
