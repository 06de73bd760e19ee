package dev.jkvm.klib.kernel.cpu;

/** RFLAGS bits the kernel sets, clears or checks (Intel SDM Vol. 1 3.4.3, Vol. 3A 2.3). */
public final class Rflags {
    private Rflags() {
    }

    /** Bit 1 is reserved and always reads as one. */
    public static final long RESERVED_ONE = 1L << 1;
    public static final long TF = 1L << 8;
    public static final long IF = 1L << 9;
    public static final long DF = 1L << 10;
    /** Alignment check; with CR4.SMAP it also opens user pages to supervisor data accesses. */
    public static final long AC = 1L << 18;
    /** The status flags a user task owns: CF, PF, AF, ZF, SF and OF, plus DF. */
    public static final long USER_OWNED = 0xCD5;
}
