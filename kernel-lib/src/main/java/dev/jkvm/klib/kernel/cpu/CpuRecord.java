package dev.jkvm.klib.kernel.cpu;

import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Memory;

/**
 * Who each CPU is: one record per CPU with its identity and nothing else (Hermit's
 * core_local.rs keeps the same apart from scheduler and test state), the mask of CPUs online,
 * and the count of CPUs a panic stopped. The boot CPU writes a record (CpuResources.prepare)
 * before that CPU runs; afterwards every CPU only reads it, so it needs no lock. Bring-up
 * progress and IPI counters are smp's (SmpState); self-test scratch is selftest's.
 *
 * Record (SIZE bytes, one cache line so CPUs that read their neighbours' records never share a
 * line that is written): +0 int APIC ID, +8 long per-CPU area (its GS base), +16 long top of its
 * kernel stack.
 */
public final class CpuRecord {
    private CpuRecord() {
    }

    public static final int APIC_ID = 0;
    public static final int AREA = 8;
    public static final int STACK_TOP = 16;
    public static final int SIZE = 64;

    private static final int HALTED = 0;

    private static int cpus;
    private static long records;
    private static long online;
    private static long globals;
    private static boolean structuresReady;

    /** Boot CPU, once the CPU count is known: zeroed records and an empty online mask. */
    public static void allocate(int count) {
        cpus = count;
        records = BootAllocator.allocate((long) count * SIZE, 64);
        Asm.call("kernel_memzero", records, (long) count * SIZE);
        globals = BootAllocator.allocate(64, 64);
        Asm.call("kernel_memzero", globals, 64);
        online = BootAllocator.allocate(CpuMask.SIZE, 64);
        CpuMask.clearAll(online);
    }

    /** Boot CPU, before CPU cpu runs. */
    public static void set(int cpu, int apicId, long area, long stackTop) {
        long record = of(cpu);
        Memory.store32(record + APIC_ID, apicId);
        Memory.store64(record + AREA, area);
        Memory.store64(record + STACK_TOP, stackTop);
    }

    /** Called once the records and the CPU structures are initialised: a panic may now stop other CPUs. */
    public static void markReady() {
        structuresReady = true;
    }

    public static boolean ready() {
        return structuresReady;
    }

    public static int count() {
        return cpus;
    }

    public static long of(int cpu) {
        return records + (long) cpu * SIZE;
    }

    public static int apicId(int cpu) {
        return Memory.load32(of(cpu) + APIC_ID);
    }

    public static long area(int cpu) {
        return Memory.load64(of(cpu) + AREA);
    }

    public static long stackTop(int cpu) {
        return Memory.load64(of(cpu) + STACK_TOP);
    }

    /** The CpuMask of CPUs online (the boot CPU and every AP that reached READY). */
    public static long onlineMask() {
        return online;
    }

    public static boolean isOnline(int cpu) {
        return CpuMask.contains(online, cpu);
    }

    /** CPUs that a panic's NMI stopped for good. */
    public static int haltedCount() {
        return Atomic.loadVolatile32(globals + HALTED);
    }

    public static void noteHalted() {
        Atomic.fetchAdd32(globals + HALTED, 1);
    }
}
