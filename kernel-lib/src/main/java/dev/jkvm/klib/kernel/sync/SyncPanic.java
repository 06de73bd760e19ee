package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Asm;

/**
 * Stops the kernel after a synchronization bug was detected and its message printed. The
 * kernel binds SYMBOL to its panic routine (no arguments, never returns: it stops the other CPUs
 * and halts); a host test binds it with Asm.hostDefine to observe the panic.
 */
public final class SyncPanic {
    private SyncPanic() {
    }

    public static final String SYMBOL = "klib_panic";

    public static void halt() {
        Asm.call(SYMBOL);
    }
}
