package dev.jkvm.klib.kernel.cpu;

import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Memory;

/**
 * A 64-bit TSS (Intel SDM Vol. 3A 8.7): only the stack pointers matter here. IST entries give
 * NMI, double fault and machine check their own known-good stacks (6.14.5), so a kernel stack
 * overflow into a guard page still gets reported instead of escalating to a triple fault.
 */
public final class Tss {
    private Tss() {
    }

    public static final int SIZE = 104;
    public static final int LIMIT = SIZE - 1;
    private static final int RSP0 = 4;
    private static final int IST1 = 36;
    private static final int IO_MAP_BASE = 102;
    public static final int IST_DOUBLE_FAULT = 1;
    public static final int IST_NMI = 2;
    public static final int IST_MACHINE_CHECK = 3;

    public static void format(long tss, long rsp0, long doubleFaultStack, long nmiStack, long machineCheckStack) {
        Asm.call("kernel_memzero", tss, SIZE);
        Memory.store64(tss + RSP0, rsp0);
        Memory.store64(tss + IST1 + (IST_DOUBLE_FAULT - 1) * 8L, doubleFaultStack);
        Memory.store64(tss + IST1 + (IST_NMI - 1) * 8L, nmiStack);
        Memory.store64(tss + IST1 + (IST_MACHINE_CHECK - 1) * 8L, machineCheckStack);
        // An I/O map base at or beyond the limit means no I/O permission bitmap.
        Memory.store16(tss + IO_MAP_BASE, (short) SIZE);
    }
}
