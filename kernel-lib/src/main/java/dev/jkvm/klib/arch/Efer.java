package dev.jkvm.klib.arch;

/**
 * IA32_EFER, the extended feature enable register, and the bits the kernel sets (Intel SDM
 * Vol. 3A 2.2.1 "Extended Feature Enable Register", Vol. 4 Table 2-2: MSR C000_0080H).
 */
public final class Efer {
    private Efer() {
    }

    /** The MSR's address (RDMSR/WRMSR ECX). */
    public static final int MSR = 0xC0000080;
    /** Bit 0, SYSCALL enable: SYSCALL/SYSRET work in 64-bit mode. */
    public static final int SCE = 1;
    /** Bit 8, IA-32e mode enable: long mode once CR0.PG is set (SDM Vol. 3A 10.8.5). */
    public static final int LME = 1 << 8;
    /** Bit 11, execute-disable enable: the XD (NX) bit of page-table entries takes effect. */
    public static final int NXE = 1 << 11;
}
