package dev.jkvm.klib.kernel.proc;

import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.sched.CpuStats;
import dev.jkvm.klib.kernel.sched.Scheduler;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;

/**
 * The per-CPU scheduler table a run ends with, in decimal: tasks run, context switches,
 * migrations in, reschedule IPIs sent and received, timer ticks, and the share of the time since
 * a start TSC that the CPU's idle task held it. Idle time is charged at ticks and switches
 * (CpuStats), so a CPU idle since its last tick shows slightly less idle than it was.
 */
public final class SchedTable {
    private SchedTable() {
    }

    /** Snapshots each CPU's idle TSC, the base the idle share is computed from. */
    public static void snapshotIdle(long sched, long base) {
        for (int cpu = 0; cpu < Scheduler.cpuCount(sched); cpu++) {
            Memory.store64(base + cpu * 8L,
                    CpuStats.get(Scheduler.runQueue(sched, cpu), CpuStats.IDLE_TSC));
        }
    }

    public static void print(long sched, long startTsc, long endTsc, long idleBase) {
        long elapsed = endTsc - startTsc;
        Console.print("sched: cpu  tasks-run  switches  migrations  ipis-sent  ipis-received  ticks  idle% (counts since the scheduler started, idle% over the run)\n");
        for (int cpu = 0; cpu < Scheduler.cpuCount(sched); cpu++) {
            long rq = Scheduler.runQueue(sched, cpu);
            Console.print("sched: ");
            Log.dec(cpu);
            Console.print("  ");
            Log.dec(CpuStats.get(rq, CpuStats.TASKS_RUN));
            Console.print("  ");
            Log.dec(CpuStats.get(rq, CpuStats.CONTEXT_SWITCHES));
            Console.print("  ");
            Log.dec(CpuStats.get(rq, CpuStats.MIGRATIONS_IN));
            Console.print("  ");
            Log.dec(CpuStats.get(rq, CpuStats.IPIS_SENT));
            Console.print("  ");
            Log.dec(CpuStats.get(rq, CpuStats.IPIS_RECEIVED));
            Console.print("  ");
            Log.dec(CpuStats.get(rq, CpuStats.TICKS));
            Console.print("  ");
            long idle = CpuStats.get(rq, CpuStats.IDLE_TSC) - Memory.load64(idleBase + cpu * 8L);
            long percent = elapsed <= 0 ? 0 : idle * 100 / elapsed;
            Log.dec(percent < 0 ? 0 : percent > 100 ? 100 : percent);
            Console.print("\n");
        }
    }
}
