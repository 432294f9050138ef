package org.maejvm.simd;

import jdk.incubator.vector.FloatVector;
import org.maejvm.ops.Backend;
import org.maejvm.ops.BackendProvider;

/** Registers the Vector-API backend under the name "simd". */
public final class SimdBackendProvider implements BackendProvider {
    @Override
    public String name() { return "simd"; }

    @Override
    public String describe() {
        return "Vector API, " + FloatVector.SPECIES_PREFERRED.length() + " floats per vector ("
                + FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit), up to "
                + Runtime.getRuntime().availableProcessors() + " threads";
    }

    @Override
    public boolean available() { return true; }

    @Override
    public Backend create(int threads) {
        return threads == 0 ? new SimdBackend() : new SimdBackend(threads);
    }
}
