package org.maejvm.io;

import java.nio.file.Path;

/**
 * A pickle that asks for something the restricted unpickler does not allow: a global outside the tensor-rebuilding
 * allowlist, a call of a non-callable, or an unknown persistent-id form. Raised while reading the pickle's opcodes,
 * before any storage is read and without calling anything.
 */
public class RefusedPickleException extends MalformedFileException {
    public RefusedPickleException(Path file, String detail) {
        super("refusing to load " + file + ": " + detail, file, "refused: " + detail, null);
    }
}
