package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.rt.Atomic;

/**
 * Per-CPU scheduler counters for the final report, kept inside each CPU's RunQueue record at
 * RunQueue.STATS. Each is written only by its own CPU (or under its run queue lock) and read
 * as a snapshot, so plain 64-bit stores suffice; ipisReceived is the exception and is counted by
 * the CPU itself in its IPI handler.
 *
 * Layout (SIZE bytes, offsets from RunQueue.STATS):
 * <pre>
 *   +0  long contextSwitches   switches where the next task differs from the previous one
 *   +8  long tasksRun          switches to a non-idle task
 *   +16 long migrationsIn      tasks placed here that last ran elsewhere
 *   +24 long ipisSent          reschedule IPIs this CPU requested (IpiMailbox.post calls)
 *   +32 long ipisReceived      reschedule requests this CPU's IPI handler took
 *   +40 long idleTsc           TSC cycles its idle task held the CPU
 *   +48 long ticks             timer ticks handled
 *   +56 long switchedInTsc     TSC of the last switch on this CPU (accounting base)
 * </pre>
 */
public final class CpuStats {
    private CpuStats() {
    }

    public static final int CONTEXT_SWITCHES = 0;
    public static final int TASKS_RUN = 8;
    public static final int MIGRATIONS_IN = 16;
    public static final int IPIS_SENT = 24;
    public static final int IPIS_RECEIVED = 32;
    public static final int IDLE_TSC = 40;
    public static final int TICKS = 48;
    public static final int SWITCHED_IN_TSC = 56;
    public static final int SIZE = 64;

    /** Adds to one counter of the CPU whose run queue record is rq. */
    public static void add(long rq, int counter, long delta) {
        Atomic.fetchAdd64(rq + RunQueue.STATS + counter, delta);
    }

    public static void set(long rq, int counter, long value) {
        Atomic.storeVolatile64(rq + RunQueue.STATS + counter, value);
    }

    public static long get(long rq, int counter) {
        return Atomic.loadVolatile64(rq + RunQueue.STATS + counter);
    }
}
