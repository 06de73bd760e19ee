package dev.jkvm.klib.kernel.cpu;

import dev.jkvm.klib.arch.SegmentDescriptors;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Memory;

/**
 * The kernel's GDT: null, 64-bit code, data, user data, user 64-bit code, then one 16-byte TSS
 * descriptor per CPU (Intel SDM Vol. 3A 3.4.5, 8.2.3). The user pair follows the kernel pair in
 * the order SYSRET requires: it loads SS from STAR[63:48] + 8 and CS from STAR[63:48] + 16
 * (Intel SDM Vol. 2B, SYSRET), so STAR[63:48] = DATA_SELECTOR gives 0x1B and 0x23. Every CPU loads the same table and its own TSS selector; a TSS
 * descriptor cannot be shared because LTR marks it busy.
 */
public final class Gdt {
    private Gdt() {
    }

    public static final int CODE64_SELECTOR = 0x08;
    public static final int DATA_SELECTOR = 0x10;
    public static final int USER_DATA_SELECTOR = 0x18 | 3;
    public static final int USER_CODE64_SELECTOR = 0x20 | 3;
    private static final int FIRST_TSS = 5;
    /** The flat descriptors (arch.SegmentDescriptors: ring 0 64-bit code and data, and both with DPL 3). */
    private static final long CODE64 = SegmentDescriptors.KERNEL_CODE64;
    private static final long DATA = SegmentDescriptors.KERNEL_DATA;
    private static final long USER_DATA = SegmentDescriptors.USER_DATA;
    private static final long USER_CODE64 = SegmentDescriptors.USER_CODE64;
    /** Present, DPL 0, type 9: available 64-bit TSS. */
    private static final long TSS_AVAILABLE = 0x89;

    public static long bytesFor(int cpus) {
        return (FIRST_TSS + 2L * cpus) * 8;
    }

    public static void format(long gdt) {
        Memory.store64(gdt, 0);
        Memory.store64(gdt + 8, CODE64);
        Memory.store64(gdt + 16, DATA);
        Memory.store64(gdt + 24, USER_DATA);
        Memory.store64(gdt + 32, USER_CODE64);
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
