package dev.jkvm.klib.kernel.cpu;

import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Memory;

/**
 * The kernel's GDT: null, 64-bit code, data, then one 16-byte TSS descriptor per CPU (Intel SDM
 * Vol. 3A 3.4.5, 8.2.3). Every CPU loads the same table and its own TSS selector; a TSS
 * descriptor cannot be shared because LTR marks it busy.
 */
public final class Gdt {
    private Gdt() {
    }

    public static final int CODE64_SELECTOR = 0x08;
    public static final int DATA_SELECTOR = 0x10;
    private static final int FIRST_TSS = 3;
    /** Present, ring 0, code, readable; L = 1 (64-bit), G = 1. */
    private static final long CODE64 = 0x00AF9A000000FFFFL;
    /** Present, ring 0, data, writable; D/B = 1, G = 1. */
    private static final long DATA = 0x00CF92000000FFFFL;
    /** Present, DPL 0, type 9: available 64-bit TSS. */
    private static final long TSS_AVAILABLE = 0x89;

    public static long bytesFor(int cpus) {
        return (FIRST_TSS + 2L * cpus) * 8;
    }

    public static void format(long gdt) {
        Memory.store64(gdt, 0);
        Memory.store64(gdt + 8, CODE64);
        Memory.store64(gdt + 16, DATA);
    }

    public static void setTss(long gdt, int cpu, long tss, int limit) {
        long low = (limit & 0xFFFFL) | ((tss & 0xFFFFFFL) << 16) | (TSS_AVAILABLE << 40)
                | (((long) limit >>> 16 & 0xF) << 48) | (((tss >>> 24) & 0xFF) << 56);
        long entry = gdt + tssSelector(cpu);
        Memory.store64(entry, low);
        Memory.store64(entry + 8, tss >>> 32);
    }

    public static int tssSelector(int cpu) {
        return (FIRST_TSS + 2 * cpu) * 8;
    }

    /** Loads GDTR and reloads CS, DS, ES, SS; then TR with this CPU's TSS. */
    public static void load(long gdt, int cpus, int cpu) {
        Asm.call("kernel_lgdt", gdt, bytesFor(cpus) - 1);
        Asm.call("kernel_ltr", tssSelector(cpu));
    }
}
