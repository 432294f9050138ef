package org.maejvm.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file the library was asked to read that is not what it claims to be: weights, pickles, images, data sets and
 * JSON configs that are truncated, inconsistent, hostile or impossible. Every reader treats its input as untrusted
 * and reports a bad one with this type (or a subclass) and nothing else: the message starts with the file and names
 * the field or part at fault and what would have been valid.
 */
public class MalformedFileException extends IOException {
    private final transient Path file;
    private final String detail;

    public MalformedFileException(Path file, String detail) {
        this(file + ": " + detail, file, detail, null);
    }

    public MalformedFileException(Path file, String detail, Throwable cause) {
        this(file + ": " + detail, file, detail, cause);
    }

    /** For subclasses that word the whole message themselves (it must still name the file). */
    protected MalformedFileException(String message, Path file, String detail, Throwable cause) {
        super(message, cause);
        this.file = file;
        this.detail = detail;
    }

    /** The file that could not be read. */
    public Path file() {
        return file;
    }

    /** What is wrong, without the file name (for reports that list the file separately). */
    public String detail() {
        return detail;
    }
}
