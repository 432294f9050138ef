package org.maejvm.bench.blas;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * OpenBLAS's own query and thread functions, bound through FFM in one loaded copy of the library. Used for
 * both builds: it lets us ask each copy which version and core it runs and how many threads it really uses.
 */
final class OpenBlasInfo {
    private static final Linker LINKER = Linker.nativeLinker();

    private final MethodHandle setNumThreads;
    private final MethodHandle getNumThreads;
    private final MethodHandle getConfig;
    private final MethodHandle getCorename;

    OpenBlasInfo(SymbolLookup lib) {
        this.setNumThreads = bind(lib, "openblas_set_num_threads", FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
        this.getNumThreads = bind(lib, "openblas_get_num_threads", FunctionDescriptor.of(ValueLayout.JAVA_INT));
        this.getConfig = bindOptional(lib, "openblas_get_config", FunctionDescriptor.of(ValueLayout.ADDRESS));
        this.getCorename = bindOptional(lib, "openblas_get_corename", FunctionDescriptor.of(ValueLayout.ADDRESS));
    }

    static MethodHandle bind(SymbolLookup lib, String symbol, FunctionDescriptor fd) {
        MemorySegment address = lib.find(symbol).orElseThrow(() ->
                new IllegalStateException("the OpenBLAS library has no symbol " + symbol + "; is it really OpenBLAS?"));
        return LINKER.downcallHandle(address, fd);
    }

    private static MethodHandle bindOptional(SymbolLookup lib, String symbol, FunctionDescriptor fd) {
        Optional<MemorySegment> address = lib.find(symbol);
        return address.map(a -> LINKER.downcallHandle(a, fd)).orElse(null);
    }

    void setThreads(int threads) {
        try {
            setNumThreads.invokeExact(threads);
        } catch (Throwable t) {
            throw new IllegalStateException("openblas_set_num_threads failed", t);
        }
    }

    int threads() {
        try {
            return (int) getNumThreads.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("openblas_get_num_threads failed", t);
        }
    }

    /** "OpenBLAS 0.3.21 ... Zen MAX_THREADS=64 (core Zen)" or what part of it the library offers. */
    String describe() {
        String config = string(getConfig);
        String core = string(getCorename);
        if (config == null) return core == null ? "OpenBLAS (no version query)" : "OpenBLAS, core " + core;
        return core == null ? config : config + " (core " + core + ")";
    }

    private static String string(MethodHandle fn) {
        if (fn == null) return null;
        try {
            MemorySegment p = (MemorySegment) fn.invokeExact();
            return p.equals(MemorySegment.NULL) ? null : p.reinterpret(1024).getString(0).trim();
        } catch (Throwable t) {
            return null;
        }
    }

    /** Sets the count and checks the library took it. */
    static void setAndVerify(String name, int threads, java.util.function.IntConsumer set, java.util.function.IntSupplier get) {
        if (threads < 1) throw new IllegalArgumentException(name + ": thread count must be >= 1, got " + threads);
        set.accept(threads);
        int actual = get.getAsInt();
        if (actual != threads) {
            throw new IllegalStateException("OpenBLAS (" + name + ") runs " + actual + " threads after asking for " + threads
                    + " (its build caps it, or OPENBLAS_NUM_THREADS/OMP_NUM_THREADS limit it)");
        }
    }
}
