package org.maejvm.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Whole-file writes that never leave a half-written target: the content goes to a temporary file in the target's
 * directory, is forced to disk, and is then renamed over the target (an atomic replace on POSIX file systems).
 * If anything fails, the previous target is untouched and the temporary file is removed.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Writes the content of a file to the stream it is given; the stream must not be closed by the writer. */
    @FunctionalInterface
    public interface ContentWriter {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Replaces {@code target} with what {@code writer} writes, atomically. */
    public static void write(Path target, ContentWriter writer) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (Files.isDirectory(abs)) {
            throw new IOException(target + ": is a directory; give the path of a file to write");
        }
        if (dir == null || !Files.isDirectory(dir)) {
            throw new NoSuchFileException(String.valueOf(dir), null,
                    "cannot write " + target + ": its directory does not exist");
        }
        Path tmp = createTemp(dir, abs.getFileName().toString());
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                FlushOnClose out = new FlushOnClose(Channels.newOutputStream(ch));
                writer.writeTo(out);
                out.flush();
                ch.force(true);
            }
            replace(tmp, abs);
            moved = true;
            syncDirectory(dir);
        } finally {
            if (!moved) deleteQuietly(tmp);
        }
    }

    /**
     * Deletes the temporary files that writes of {@code dir/<name>} left behind when their process was killed
     * (named {@code .<name>.<hex>.tmp}), for names matching {@code glob}; returns how many were removed. Call it
     * only where no other process is writing such files at the same time.
     */
    public static int removeLeftovers(Path dir, String glob) throws IOException {
        int removed = 0;
        try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "." + glob + ".*.tmp")) {
            for (Path p : ds) {
                if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS) && Files.deleteIfExists(p)) {
                    removed++;
                }
            }
        }
        return removed;
    }

    /** A new empty file next to the target; visible as a dot file so directory listings hide it on POSIX. */
    private static Path createTemp(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            String suffix = Long.toHexString(ThreadLocalRandom.current().nextLong());
            Path tmp = dir.resolve("." + name + "." + suffix + ".tmp");
            try {
                return Files.createFile(tmp);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 16) throw e;
            }
        }
    }

    private static void replace(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            // Some file systems cannot rename atomically; a plain replace is the best they offer.
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Makes the rename itself durable; not every platform can open a directory, which is harmless to skip. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // best effort: the data itself is already on disk
        }
    }

    private static void deleteQuietly(Path tmp) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException e) {
            // the original failure is what the caller needs to see
        }
    }

    /** Buffered stream whose close() only flushes, so a writer that closes it cannot close the channel early. */
    private static final class FlushOnClose extends BufferedOutputStream {
        FlushOnClose(OutputStream out) {
            super(out, 1 << 16);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
