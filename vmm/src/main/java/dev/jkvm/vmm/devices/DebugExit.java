package dev.jkvm.vmm.devices;

import java.util.function.IntConsumer;

/**
 * QEMU's {@code isa-debug-exit} device (hw/misc/debugexit.c): a guest ends the VM by writing a
 * value to port 0xF4, and QEMU exits with status {@code (value << 1) | 1}. The shift keeps every
 * guest-chosen status odd, so a test harness can tell a guest's verdict from QEMU's own exit
 * codes (0 for a clean shutdown, 1 for an error). Reads return all ones, as on QEMU 7.2.
 */
public final class DebugExit implements PioDevice {
    public static final int PORT = 0xF4;
    public static final int PORT_COUNT = 1;

    private final IntConsumer onExitStatus;

    public DebugExit(IntConsumer onExitStatus) {
        this.onExitStatus = onExitStatus;
    }

    @Override
    public int read(int port, int size) {
        return size == 4 ? 0xFFFF_FFFF : (1 << (8 * size)) - 1;
    }

    /** The status is computed from the value at the access size, e.g. {@code outw} sends 16 bits. */
    @Override
    public void write(int port, int size, int value) {
        int written = size == 4 ? value : value & ((1 << (8 * size)) - 1);
        onExitStatus.accept((written << 1) | 1);
    }
}
