package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.rt.Cpu;

/**
 * The instructions behind TlbInvalidate's symbols (Intel SDM Vol. 3A 4.10.4.1).
 */
public final class TlbInstructions {
    private TlbInstructions() {
    }

    /** CR4.PGE: global pages survive CR3 loads while it is set (Intel SDM Vol. 3A 2.5). */
    public static final long CR4_PGE = 1L << 7;

    /** INVLPG: drops the translation of the page holding the address, global or not. */
    public static void invalidatePage(long linearAddress) {
        Cpu.invlpg(linearAddress);
    }

    /** Reloading CR3 drops every non-global translation (those of the current address space). */
    public static void flushAddressSpace() {
        Cpu.writeCr3(Cpu.readCr3());
    }

    /** Toggling CR4.PGE drops every translation, global ones included; without PGE, CR3 does. */
    public static void flushAll() {
        long cr4 = Cpu.readCr4();
        if ((cr4 & CR4_PGE) != 0) {
            Cpu.writeCr4(cr4 & ~CR4_PGE);
            Cpu.writeCr4(cr4);
        } else {
            Cpu.writeCr3(Cpu.readCr3());
        }
    }
}
