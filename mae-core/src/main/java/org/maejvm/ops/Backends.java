package org.maejvm.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Finds backends by name among the registered {@link BackendProvider}s; "reference" is always there. */
public final class Backends {
    private Backends() {}

    public static List<BackendProvider> providers() {
        List<BackendProvider> out = new ArrayList<>();
        out.add(new ReferenceProvider());
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
            if (!p.name().equals("reference")) out.add(p);
        }
        return out;
    }

    /** Creates the named backend, or explains which names exist and why one is unavailable. */
    public static Backend create(String name, int threads) {
        if (threads < 0) throw new IllegalArgumentException("thread count must be >= 0 (0 = all cores), got " + threads);
        List<String> known = new ArrayList<>();
        for (BackendProvider p : providers()) {
            known.add(p.name());
            if (p.name().equalsIgnoreCase(name)) {
                if (!p.available()) throw new IllegalArgumentException("backend '" + name + "' is not available here: " + p.describe());
                return p.create(threads);
            }
        }
        throw new IllegalArgumentException("unknown backend '" + name + "'; available: " + String.join(", ", known));
    }

    private static final class ReferenceProvider implements BackendProvider {
        @Override public String name() { return "reference"; }
        @Override public String describe() { return "scalar Java, 1 thread: the correctness oracle (slow)"; }
        @Override public boolean available() { return true; }
        @Override public Backend create(int threads) { return new ReferenceBackend(); }
    }
}
