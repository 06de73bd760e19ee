package dev.jkvm.klib.workload;

/**
 * A user workload cannot become an image: its method is missing, has the wrong signature, or is
 * outside what ring-3 code may be. The message is one line naming the class, the method, the
 * cause and the fix, ready to print as is.
 */
public final class WorkloadException extends RuntimeException {
    public WorkloadException(String message) {
        super(message);
    }

    public WorkloadException(String message, Throwable cause) {
        super(message, cause);
    }
}
