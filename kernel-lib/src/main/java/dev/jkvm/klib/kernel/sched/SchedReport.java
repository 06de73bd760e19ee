package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.rt.Console;

/**
 * Prints the per-CPU scheduler counters (CpuStats) on the kernel console, one line per CPU, for
 * the report a run ends with. Values are hexadecimal (Console.printHex is the only number
 * format the kernel has); TSC values are cycles.
 */
public final class SchedReport {
    private SchedReport() {
    }

    public static void print(long sched) {
        int cpuCount = Scheduler.cpuCount(sched);
        for (int cpu = 0; cpu < cpuCount; cpu++) {
            long rq = Scheduler.runQueue(sched, cpu);
            Console.print("sched cpu ");
            Console.printHex(cpu);
            Console.print(" tasks-run ");
            Console.printHex(CpuStats.get(rq, CpuStats.TASKS_RUN));
            Console.print(" switches ");
            Console.printHex(CpuStats.get(rq, CpuStats.CONTEXT_SWITCHES));
            Console.print(" migrations-in ");
            Console.printHex(CpuStats.get(rq, CpuStats.MIGRATIONS_IN));
            Console.print(" ipis-sent ");
            Console.printHex(CpuStats.get(rq, CpuStats.IPIS_SENT));
            Console.print(" ipis-received ");
            Console.printHex(CpuStats.get(rq, CpuStats.IPIS_RECEIVED));
            Console.print(" idle-tsc ");
            Console.printHex(CpuStats.get(rq, CpuStats.IDLE_TSC));
            Console.print(" ticks ");
            Console.printHex(CpuStats.get(rq, CpuStats.TICKS));
            Console.print("\n");
        }
    }
}
