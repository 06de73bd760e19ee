package dev.jkvm.vmm.boot;

/**
 * A kernel image that cannot be booted as asked. The message is one line for the user: what is
 * wrong and what to do about it. There is deliberately no cause: these are user errors, not bugs.
 */
public final class MultibootException extends RuntimeException {
    public MultibootException(String message) {
        super(message, null, false, false);
    }
}
