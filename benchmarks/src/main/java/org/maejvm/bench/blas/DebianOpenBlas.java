package org.maejvm.bench.blas;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The distribution's OpenBLAS (Debian/Ubuntu package {@code libopenblas0-pthread}) called through a Panama FFM
 * downcall to {@code cblas_sgemm}. The library is found at run time; nothing here assumes one machine's layout.
 */
public final class DebianOpenBlas implements Sgemm {
    /** The package that provides the library, for the message when it is missing. */
    public static final String PACKAGE_HINT = "apt-get install libopenblas0-pthread";
    /** System property naming the library file explicitly, which skips the search. */
    public static final String PATH_PROPERTY = "maejvm.openblas.library";

    private static final String SONAME = "libopenblas.so.0";
    private static final String PTHREAD_DIR = "openblas-pthread";
    // CBLAS enum values (cblas.h).
    private static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

    private final Path library;
    private final OpenBlasInfo info;
    private final MethodHandle sgemm;

    private DebianOpenBlas(Path library) {
        this.library = library;
        // The global arena keeps the library loaded for the life of the JVM, as a yardstick should be.
        SymbolLookup lookup = SymbolLookup.libraryLookup(library, Arena.global());
        this.info = new OpenBlasInfo(lookup);
        var i = ValueLayout.JAVA_INT;
        var f = ValueLayout.JAVA_FLOAT;
        var p = ValueLayout.ADDRESS;
        this.sgemm = OpenBlasInfo.bind(lookup, "cblas_sgemm",
                FunctionDescriptor.ofVoid(i, i, i, i, i, i, f, p, i, p, i, f, p, i));
    }

    /** Loads the library found by {@link #locate()}, or explains what to install. */
    public static DebianOpenBlas load() {
        Path lib = locate().orElseThrow(() -> new IllegalStateException(
                "Debian's OpenBLAS (" + PTHREAD_DIR + "/" + SONAME + ") was not found; install it with: " + PACKAGE_HINT));
        return new DebianOpenBlas(lib);
    }

    /**
     * Where the pthread build lives: the {@value #PATH_PROPERTY} property if set; else the
     * {@code openblas-pthread/} folder next to each {@code libopenblas.so.0} that {@code ldconfig -p} lists and
     * in the multiarch library folders of this architecture; else the {@code libopenblas.so.0} that
     * {@code ldconfig} lists itself (whichever variant the alternatives system picked).
     */
    public static Optional<Path> locate() {
        String explicit = System.getProperty(PATH_PROPERTY);
        if (explicit != null && !explicit.isBlank()) {
            Path p = Path.of(explicit);
            if (!Files.isRegularFile(p)) {
                throw new IllegalStateException(PATH_PROPERTY + "=" + explicit + " is not a file");
            }
            return Optional.of(p);
        }
        Optional<Path> pthread = variantFile(PTHREAD_DIR, SONAME);
        if (pthread.isPresent()) return pthread;
        return ldconfigEntries(SONAME).stream().filter(Files::isRegularFile).findFirst();
    }

    /**
     * A file of one of Debian's OpenBLAS variants ({@code openblas-pthread}, {@code openblas-openmp}, ...): the
     * first {@code variant/file} that exists in the folders holding a {@code libopenblas.so.0} that
     * {@code ldconfig -p} lists, then in the multiarch library folders of this architecture.
     */
    public static Optional<Path> variantFile(String variant, String file) {
        Set<Path> dirs = new LinkedHashSet<>();
        for (Path p : ldconfigEntries(SONAME)) if (p.getParent() != null) dirs.add(p.getParent());
        dirs.addAll(multiarchDirs());
        for (Path dir : dirs) {
            Path candidate = dir.resolve(variant).resolve(file);
            if (Files.isRegularFile(candidate)) return Optional.of(candidate);
        }
        return Optional.empty();
    }

    /** The library file in use, resolved through symlinks where possible. */
    public Path library() {
        try {
            return library.toRealPath();
        } catch (IOException e) {
            return library;
        }
    }

    @Override
    public String name() { return "debian"; }

    @Override
    public String describe() { return info.describe() + " via FFM, " + library(); }

    @Override
    public void setThreads(int threads) {
        OpenBlasInfo.setAndVerify(name(), threads, info::setThreads, info::threads);
    }

    @Override
    public int threads() { return info.threads(); }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      MemorySegment a, int lda, MemorySegment b, int ldb, float beta, MemorySegment c, int ldc) {
        Sgemm.checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
        try {
            sgemm.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha,
                    a, lda, b, ldb, beta, c, ldc);
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm failed", t);
        }
    }

    /** Paths {@code ldconfig -p} maps the soname to; empty when ldconfig is missing or fails. */
    static List<Path> ldconfigEntries(String soname) {
        List<Path> out = new ArrayList<>();
        for (String exe : List.of("ldconfig", "/sbin/ldconfig", "/usr/sbin/ldconfig")) {
            try {
                Process proc = new ProcessBuilder(exe, "-p").redirectErrorStream(true).start();
                try (BufferedReader r = new BufferedReader(new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        // "\tlibopenblas.so.0 (libc6,x86-64) => /lib/x86_64-linux-gnu/libopenblas.so.0"
                        String t = line.trim();
                        int arrow = t.indexOf("=>");
                        if (arrow > 0 && t.startsWith(soname + " ")) out.add(Path.of(t.substring(arrow + 2).trim()));
                    }
                }
                if (proc.waitFor(10, TimeUnit.SECONDS) && proc.exitValue() == 0) return out;
                proc.destroy();
            } catch (IOException e) {
                // not on this path; try the next
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return out;
            }
        }
        return out;
    }

    /** Debian's multiarch library folders for the running architecture. */
    static List<Path> multiarchDirs() {
        String triplet = switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "x86_64-linux-gnu";
            case "aarch64" -> "aarch64-linux-gnu";
            case "ppc64le" -> "powerpc64le-linux-gnu";
            case "riscv64" -> "riscv64-linux-gnu";
            case "s390x" -> "s390x-linux-gnu";
            default -> null;
        };
        if (triplet == null) return List.of();
        return List.of(Path.of("/usr/lib", triplet), Path.of("/lib", triplet));
    }
}
