package org.maejvm.dist;

/**
 * A collective could not complete: a peer disappeared, did not answer within the timeout, or called a different
 * collective. The communicator is broken afterwards; every later call throws at once (the ranks can no longer agree
 * on what was exchanged, so the only safe continuation is a restart from a checkpoint).
 */
public class CommunicatorException extends RuntimeException {
    public CommunicatorException(String message) {
        super(message);
    }

    public CommunicatorException(String message, Throwable cause) {
        super(message, cause);
    }
}
