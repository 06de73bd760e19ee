package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.rt.Console;

/**
 * How far an application processor got, in order. The trampoline writes the first four into its
 * parameter block, the AP's kernel code the rest into its slot of the stage array; the BSP reads
 * both, so an AP that hangs is reported with the last step it finished.
 */
public final class BootStage {
    private BootStage() {
    }

    public static final int NONE = 0;
    public static final int REAL = 1;
    public static final int PROTECTED = 2;
    public static final int LONG = 3;
    public static final int STACK = 4;
    public static final int GDT_IDT = 5;
    public static final int PER_CPU = 6;
    public static final int LAPIC = 7;
    public static final int READY = 8;
    public static final int IDLE = 9;

    public static void print(int stage) {
        switch (stage) {
            case NONE -> Console.print("none");
            case REAL -> Console.print("real");
            case PROTECTED -> Console.print("protected");
            case LONG -> Console.print("long");
            case STACK -> Console.print("stack");
            case GDT_IDT -> Console.print("gdt/idt");
            case PER_CPU -> Console.print("per-cpu");
            case LAPIC -> Console.print("lapic");
            case READY -> Console.print("ready");
            case IDLE -> Console.print("idle");
            default -> Console.print("?");
        }
    }
}
