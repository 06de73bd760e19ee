package dev.jkvm.klib.kernel.mm;

import dev.jkvm.klib.rt.Asm;

/**
 * Stops the kernel when memory management cannot go on (the boot allocator or the page-table
 * pool ran out) after the caller printed why. mm sits below trap, which holds the panic routine,
 * so it reaches that routine by symbol, as sync does (SyncPanic): the kernel binds SYMBOL to its
 * panic routine (no arguments, never returns: it stops the other CPUs and exits); a host test
 * binds it with Asm.hostDefine to observe the panic. SYMBOL is the same as SyncPanic's: one
 * routine serves both.
 */
public final class MmPanic {
    private MmPanic() {
    }

    public static final String SYMBOL = "klib_panic";

    public static void halt() {
        Asm.call(SYMBOL);
    }
}
