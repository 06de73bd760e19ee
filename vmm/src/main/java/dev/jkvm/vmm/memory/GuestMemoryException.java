package dev.jkvm.vmm.memory;

/** A host-side access to guest-physical memory that is not backed by RAM. */
public final class GuestMemoryException extends RuntimeException {
    private final long address;
    private final long length;

    public GuestMemoryException(long address, long length) {
        super("guest-physical range 0x" + Long.toHexString(address) + "+" + length + " is not RAM");
        this.address = address;
        this.length = length;
    }

    public long address() { return address; }
    public long length() { return length; }
}
