package dev.jkvm.klib.kernel.cpu;

import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Memory;
import dev.jkvm.klib.rt.Msr;

/**
 * Each CPU's private area, reached through GS (IA32_GS_BASE, MSR 0xC0000101, Intel SDM Vol. 3A
 * 3.4.4 and 2.2.1). The first cache line is the kernel's own, written once at bring-up and only
 * read afterwards; compiled @PerCpu fields start at RESERVED (JavaSubsetCompiler.perCpuBaseOffset)
 * on the next line, so the fields CPUs update often never share a line with the read-mostly ones,
 * and areas are cache-line aligned so no two CPUs share a line either.
 *
 * Reserved line: +0 self (the area's own address: thisCpu() is one GS-relative load),
 * +8 CPU index, +12 APIC ID, +16 magic, +24 kernel stack top, +32 TSS address, +40 user RSP
 * during SYSCALL entry, +48 the CPU's console line buffer (console.Log).
 *
 * Area: [reserved line][@PerCpu fields, copied from the compiled template, whole lines]
 * [DYNAMIC_BYTES zeroed for PerCpuVariables]. The dynamic region comes last so that the
 * compiler's static offsets are the same with or without it.
 */
public final class PerCpuArea {
    private PerCpuArea() {
    }

    public static final int SELF = 0;
    public static final int CPU_INDEX = 8;
    public static final int APIC_ID = 12;
    public static final int MAGIC = 16;
    public static final int STACK_TOP = 24;
    public static final int TSS = 32;
    /** Where the SYSCALL entry parks the user RSP while it switches to the kernel stack. */
    public static final int SYSCALL_USER_RSP = 40;
    /** The address of this CPU's console line buffer, 0 until console.Log gives it one. */
    public static final int CONSOLE_LINE = Log.CONSOLE_LINE_SLOT;
    public static final int RESERVED = 64;
    public static final int ALIGNMENT = 64;
    /** The dynamic region of every area (PerCpuVariables): 4 KiB, whole cache lines. */
    public static final int DYNAMIC_BYTES = 4096;
    /** "JKVMPCPU": a corrupted or unset GS base shows up as a wrong magic. */
    public static final long MAGIC_VALUE = 0x4A4B564D50435055L;
    public static final int IA32_GS_BASE = 0xC0000101;

    /** Routines: mov rax, gs:[0] and mov eax, gs:[8]. */
    public static final String THIS_CPU = "kernel_this_cpu";
    public static final String CPU_INDEX_SYMBOL = "kernel_cpu_index";

    /** Fills the reserved line of an area that already holds a copy of the template. */
    public static void initialize(long area, int cpuIndex, int apicId, long stackTop, long tss) {
        Memory.store64(area + SELF, area);
        Memory.store32(area + CPU_INDEX, cpuIndex);
        Memory.store32(area + APIC_ID, apicId);
        Memory.store64(area + MAGIC, MAGIC_VALUE);
        Memory.store64(area + STACK_TOP, stackTop);
        Memory.store64(area + TSS, tss);
    }

    /** Points GS at the area. */
    public static void install(long area) {
        Msr.write(IA32_GS_BASE, area);
    }

    /** This CPU's area: a single GS-relative load. */
    public static long thisCpu() {
        return Asm.call(THIS_CPU);
    }

    /** This CPU's index (0 = boot CPU). */
    public static int cpuIndex() {
        return (int) Asm.call(CPU_INDEX_SYMBOL);
    }

    /**
     * Debug check of this CPU's area: GS base, self pointer and magic agree, and the recorded
     * APIC ID is the one the local APIC reports. Returns 0 or a bit set of what disagreed.
     */
    public static int check(int actualApicId) {
        long area = thisCpu();
        int problems = 0;
        if (Msr.read(IA32_GS_BASE) != area) {
            problems |= 1;
        }
        if (Memory.load64(area + MAGIC) != MAGIC_VALUE) {
            problems |= 2;
        }
        if (Memory.load32(area + APIC_ID) != actualApicId) {
            problems |= 4;
        }
        return problems;
    }

    public static int apicId(long area) {
        return Memory.load32(area + APIC_ID);
    }
}
