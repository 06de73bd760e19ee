package dev.jkvm.vmm.api;

/** The chosen accelerator cannot run on this host or in this build; the message names the fix. */
public final class AcceleratorUnavailableException extends RuntimeException {
    public AcceleratorUnavailableException(String message) {
        super(message);
    }
}
