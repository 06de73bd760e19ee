package dev.jkvm.vmm.emulated.cpu;

/**
 * RFLAGS bits (SDM Vol. 1 §3.4.3, Figure 3-8) and the whole-register view the system side uses
 * (PUSHF/POPF, interrupt frames, IRET, SYSCALL/SYSRET).
 *
 * <p>The six arithmetic flags live in the lazy record owned by the ISA side; {@link Flags}
 * materializes them.
 */
public final class Rflags {
    private Rflags() {}

    public static final long CF = 1, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, TF = 1 << 8, IF = 1 << 9,
            DF = 1 << 10, OF = 1 << 11, IOPL = 3 << 12, NT = 1 << 14, RF = 1 << 16, VM = 1 << 17, AC = 1 << 18,
            VIF = 1 << 19, VIP = 1 << 20, ID = 1 << 21;
    public static final long ARITH = CF | PF | AF | ZF | SF | OF;
    /** Bits that exist (the rest read as 0, bit 1 as 1). */
    public static final long DEFINED = ARITH | TF | IF | DF | IOPL | NT | RF | VM | AC | VIF | VIP | ID;

    public static long get(CpuState s) {
        return Flags.get(s) | 2;
    }

    public static void set(CpuState s, long value) {
        Flags.set(s, value & DEFINED);
    }

    public static int iopl(CpuState s) { return (int) (s.rflagsRest >>> 12) & 3; }
}
