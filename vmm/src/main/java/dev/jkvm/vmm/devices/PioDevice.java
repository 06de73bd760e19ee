package dev.jkvm.vmm.devices;

/**
 * A device model reached through x86 port I/O. {@code port} is the absolute port number and
 * {@code size} is 1, 2 or 4 bytes. Called from vCPU threads: implementations synchronize
 * themselves when more than one vCPU may touch them.
 */
public interface PioDevice {
    /** The value read; only the low {@code size} bytes are used. */
    int read(int port, int size);

    void write(int port, int size, int value);
}
