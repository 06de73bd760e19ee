package dev.jkvm.vmm.cli;

/**
 * A problem with what the user asked for (a missing kernel, an inaccessible /dev/kvm, an option
 * out of range). The launcher prints its message as one line, without a stack trace.
 */
public final class UserError extends RuntimeException {
    public UserError(String causeAndFix) {
        super(causeAndFix, null, false, false);
    }
}
