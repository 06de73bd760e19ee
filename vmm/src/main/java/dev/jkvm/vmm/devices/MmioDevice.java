package dev.jkvm.vmm.devices;

/**
 * A device model reached through memory-mapped I/O. {@code address} is guest-physical, {@code size}
 * is 1, 2, 4 or 8 bytes. Called from vCPU threads: implementations synchronize themselves.
 */
public interface MmioDevice {
    long read(long address, int size);

    void write(long address, int size, long value);
}
