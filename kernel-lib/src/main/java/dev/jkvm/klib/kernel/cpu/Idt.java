package dev.jkvm.klib.kernel.cpu;

import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Memory;

/**
 * The IDT: 256 interrupt gates (Intel SDM Vol. 3A 6.14.1), one entry stub each, shared by all
 * CPUs. Interrupt gates clear IF on entry, so handlers run with interrupts off.
 */
public final class Idt {
    private Idt() {
    }

    public static final int ENTRIES = 256;
    public static final int BYTES = ENTRIES * 16;
    /** Present, DPL 0, type 0xE: 64-bit interrupt gate. */
    private static final long INTERRUPT_GATE = 0x8E;
    public static final int NMI = 2;
    public static final int DOUBLE_FAULT = 8;
    public static final int MACHINE_CHECK = 18;

    public static void build(long idt, long stubTable) {
        for (int vector = 0; vector < ENTRIES; vector++) {
            long stub = Memory.load64(stubTable + vector * 8L);
            int ist = 0;
            if (vector == NMI) {
                ist = Tss.IST_NMI;
            } else if (vector == DOUBLE_FAULT) {
                ist = Tss.IST_DOUBLE_FAULT;
            } else if (vector == MACHINE_CHECK) {
                ist = Tss.IST_MACHINE_CHECK;
            }
            long low = (stub & 0xFFFFL) | ((long) Gdt.CODE64_SELECTOR << 16) | ((long) ist << 32)
                    | (INTERRUPT_GATE << 40) | (((stub >>> 16) & 0xFFFFL) << 48);
            Memory.store64(idt + vector * 16L, low);
            Memory.store64(idt + vector * 16L + 8, stub >>> 32);
        }
    }

    public static void load(long idt) {
        Asm.call("kernel_lidt", idt, BYTES - 1);
    }
}
