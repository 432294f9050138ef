package org.maejvm.ops;

/**
 * Makes a backend available by name. Backend modules register an implementation under
 * META-INF/services/org.maejvm.ops.BackendProvider, so adding mae-simd or mae-tornado to the class path is all
 * it takes for {@link Backends#create} to find them.
 */
public interface BackendProvider {
    /** The name users pick it by: "reference", "simd", "tornado". */
    String name();

    /** One line about this backend on this machine (threads, vector width, device), or why it is unavailable. */
    String describe();

    /** Whether it can run here (e.g. a GPU backend with no device or runtime is not). */
    boolean available();

    /** A new backend using the given number of threads (0 = the backend's default). */
    Backend create(int threads);
}
