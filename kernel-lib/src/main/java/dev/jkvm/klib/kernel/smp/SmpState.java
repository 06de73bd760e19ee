package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Atomic;

/**
 * How far each CPU got in bring-up and what the IPI paths counted, in memory every CPU reads:
 * one record per CPU (written by that CPU or by the BSP while it brings the CPU up; a cache line
 * of its own so a CPU's counters never share a line with another CPU's), the IPI mailbox,
 * call-function and TLB-shootdown areas, and a line of global counters. Who a CPU is (APIC ID,
 * per-CPU area, stack top) and which CPUs are online is cpu.CpuRecord's; what self-tests leave
 * behind is selftest.CrossCalls' (PerCpuVariables).
 *
 * Record: +0 stage (BootStage), +4 features, +8 perCpuCheck, +12 protections enabled, +16 set
 * when the AP did not leave the trampoline in time, +20 reschedule IPIs, +24 timer IPIs.
 */
public final class SmpState {
    private SmpState() {
    }

    public static final int RECORD = 64;
    public static final int STAGE = 0;
    public static final int FEATURES = 4;
    public static final int PER_CPU_CHECK = 8;
    public static final int PROTECTIONS = 12;
    public static final int TRAMPOLINE_TIMED_OUT = 16;
    public static final int RESCHEDULES = 20;
    public static final int TIMER_IPIS = 24;

    private static final int READY_COUNT = 0;
    private static final int RELEASED = 4;
    private static final int CALLS_RUN = 12;

    private static long records;
    private static long globals;
    private static long mailboxArea;
    private static long callArea;
    private static long tlbArea;

    /** After CpuRecord.allocate(count). */
    public static void allocate(int count) {
        records = BootAllocator.allocate((long) count * RECORD, 64);
        Asm.call("kernel_memzero", records, (long) count * RECORD);
        globals = BootAllocator.allocate(64, 64);
        Asm.call("kernel_memzero", globals, 64);
        mailboxArea = BootAllocator.allocate(IpiMailbox.bytesFor(count), 64);
        callArea = BootAllocator.allocate(CallFunction.bytesFor(count), 64);
        tlbArea = BootAllocator.allocate(TlbShootdown.bytesFor(count), 64);
        IdleCall.init();
    }

    public static long record(int cpu) {
        return records + (long) cpu * RECORD;
    }

    public static int stage(int cpu) {
        return Atomic.loadVolatile32(record(cpu) + STAGE);
    }

    public static void setStage(int cpu, int stage) {
        Atomic.storeVolatile32(record(cpu) + STAGE, stage);
    }

    public static int counter(int cpu, int offset) {
        return Atomic.loadVolatile32(record(cpu) + offset);
    }

    public static void increment(int cpu, int offset) {
        Atomic.fetchAdd32(record(cpu) + offset, 1);
    }

    public static long mailbox() {
        return mailboxArea;
    }

    public static long calls() {
        return callArea;
    }

    public static long tlb() {
        return tlbArea;
    }

    public static int readyCount() {
        return Atomic.loadVolatile32(globals + READY_COUNT);
    }

    public static void noteReady() {
        Atomic.fetchAdd32Release(globals + READY_COUNT, 1);
    }

    /** The BSP's release: APs that reached READY wait for it before they go idle. */
    public static void release() {
        Atomic.storeVolatile32(globals + RELEASED, 1);
    }

    public static boolean released() {
        return Atomic.loadVolatile32(globals + RELEASED) != 0;
    }

    public static int callsRun() {
        return Atomic.loadVolatile32(globals + CALLS_RUN);
    }

    public static void noteCallRun() {
        Atomic.fetchAdd32(globals + CALLS_RUN, 1);
    }
}
