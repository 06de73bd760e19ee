package dev.jkvm.vmm.kvm;

/**
 * A failed system call on the KVM or libc boundary. The message names the call, the object it
 * was made on and the errno, e.g. {@code "KVM_CREATE_VCPU on vm failed: EINVAL (22)"}.
 */
public final class KvmException extends RuntimeException {
    private final String call;
    private final String object;
    private final int errno;

    public KvmException(String call, String object, int errno) {
        super(call + " on " + object + " failed: " + LibcAbi.errnoName(errno) + " (" + errno + ")" + hint(call, errno));
        this.call = call;
        this.object = object;
        this.errno = errno;
    }

    /** A failure that is not an errno, e.g. a short KVM_SET_MSRS. */
    public KvmException(String call, String object, String detail) {
        super(call + " on " + object + " failed: " + detail);
        this.call = call;
        this.object = object;
        this.errno = 0;
    }

    private static String hint(String call, int errno) {
        if (call.startsWith("open") && (errno == 13 || errno == 2)) {
            return "; KVM needs read/write access to /dev/kvm (load the kvm module, or add this user to group kvm)";
        }
        return "";
    }

    /** The ioctl or libc function, e.g. "KVM_RUN" or "mmap". */
    public String call() { return call; }

    /** What the call was made on, e.g. "vcpu 3", "vm", "/dev/kvm". */
    public String object() { return object; }

    /** The errno value, or 0 when the failure was not reported through errno. */
    public int errno() { return errno; }

    public String errnoName() { return errno == 0 ? "" : LibcAbi.errnoName(errno); }
}
