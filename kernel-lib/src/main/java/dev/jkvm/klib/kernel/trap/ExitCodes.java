package dev.jkvm.klib.kernel.trap;

import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Port;

/**
 * Values written to QEMU's isa-debug-exit (port 0xF4), which ends the VM with status
 * (value << 1) | 1 under QEMU and jkvm alike.
 */
public final class ExitCodes {
    private ExitCodes() {
    }

    public static final int PORT = 0xF4;
    /**
     * Every boot step and self-test passed: status 1. The default kernel powers off through ACPI S5
     * instead (status 0) and writes this only where S5 is unavailable; the self-test image always writes it.
     */
    public static final int SUCCESS = 0;
    /** A self-test failed: status 35. */
    public static final int SELF_TEST_FAILED = 0x11;
    /** Kernel panic: status 253. */
    public static final int PANIC = 0x7E;
    /** Unexpected CPU exception: status 255. */
    public static final int EXCEPTION = 0x7F;

    public static void exit(int value) {
        // This CPU's unfinished console line would be lost with the machine (console.Log).
        Log.flush();
        Port.out32(PORT, value);
        Asm.call("kernel_halt_forever");
    }
}
