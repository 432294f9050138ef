package org.maejvm.io;

import java.nio.file.Path;

/**
 * A weights file (safetensors, PyTorch {@code .pth}) that cannot be read as what it claims to be: truncated,
 * inconsistent or using a feature this reader does not support. The message starts with the file and names the
 * tensor or field at fault and what would have been valid.
 */
public class MalformedWeightsException extends MalformedFileException {
    public MalformedWeightsException(Path file, String detail) {
        super(file, detail);
    }

    public MalformedWeightsException(Path file, String detail, Throwable cause) {
        super(file, detail, cause);
    }
}
