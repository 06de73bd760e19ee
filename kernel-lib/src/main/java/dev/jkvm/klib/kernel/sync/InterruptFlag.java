package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Asm;

/**
 * Reads RFLAGS.IF, the maskable-interrupt enable flag (bit 9, Intel SDM Vol. 1 3.4.3.3). The rt
 * intrinsics offer CLI and STI but no way to read RFLAGS, so this goes through an assembler
 * routine the kernel binds to READ_RFLAGS_SYMBOL: PUSHFQ; POP RAX; RET. A host test binds it with
 * Asm.hostDefine (for instance to Cpu.hostInterruptsEnabled()).
 */
public final class InterruptFlag {
    private InterruptFlag() {
    }

    public static final String READ_RFLAGS_SYMBOL = "klib_read_rflags";
    /** RFLAGS.IF, bit 9 (Intel SDM Vol. 1 3.4.3.3); written here, not taken from cpu.Rflags, so sync stays below cpu. */
    public static final long RFLAGS_IF = 1L << 9;

    public static boolean enabled() {
        return (Asm.call(READ_RFLAGS_SYMBOL) & RFLAGS_IF) != 0;
    }
}
