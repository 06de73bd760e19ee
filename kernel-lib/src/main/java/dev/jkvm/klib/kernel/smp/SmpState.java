package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Atomic;

/**
 * How far each CPU got in bring-up and what the IPI paths counted, in memory every CPU reads:
 * one 128-byte record per CPU (written by that CPU or by the BSP while it brings the CPU up; two
 * cache lines so a CPU's counters never share a line with another CPU's), the IPI mailbox,
 * call-function and TLB-shootdown areas, and a line of global counters. Who a CPU is (APIC ID,
 * per-CPU area, stack top) and which CPUs are online is cpu.CpuRecord's.
 *
 * Record: +4 stage (BootStage), +8 features, +12 perCpuCheck, +32 call result, +40 APIC ID seen
 * by a call, +44 reschedule IPIs, +48 timer IPIs, +56 test-page value seen, +64 interrupts
 * handled, +72 protections enabled, +76 set when the AP did not leave the trampoline in time.
 */
public final class SmpState {
    private SmpState() {
    }

    public static final int RECORD = 128;
    public static final int STAGE = 4;
    public static final int FEATURES = 8;
    public static final int PER_CPU_CHECK = 12;
    public static final int RESULT = 32;
    public static final int APIC_SEEN = 40;
    public static final int RESCHEDULES = 44;
    public static final int TIMER_IPIS = 48;
    public static final int TEST_VALUE = 56;
    public static final int INTERRUPTS = 64;
    public static final int PROTECTIONS = 72;
    public static final int TRAMPOLINE_TIMED_OUT = 76;

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
