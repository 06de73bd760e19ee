package dev.jkvm.klib.rt;

/**
 * Host JVM only: kernel code under test touched memory the test did not give it (see
 * HostAddressSpace). On a real CPU the same access would be a page fault or silent corruption;
 * on the host it would reach an arbitrary address of the test JVM and could crash it, so it
 * becomes this exception, which fails the one test that made it.
 */
public final class HostMemoryFault extends RuntimeException {
    private final long address;
    private final int size;
    private final String access;
    private final String kernelMethod;

    HostMemoryFault(String access, long address, int size, String kernelMethod, String detail) {
        super(String.format("%s of %d byte%s at 0x%016x by %s: %s", access, size, size == 1 ? "" : "s",
                address, kernelMethod, detail));
        this.address = address;
        this.size = size;
        this.access = access;
        this.kernelMethod = kernelMethod;
    }

    /** The first byte the access would have touched. */
    public long address() {
        return address;
    }

    /** How many bytes the access covers. */
    public int size() {
        return size;
    }

    /** The intrinsic that made it, such as "load32" or "compareAndSet64". */
    public String access() {
        return access;
    }

    /** Class.method:line of the kernel code that called the intrinsic. */
    public String kernelMethod() {
        return kernelMethod;
    }
}
