package dev.jkvm.klib.kernel.selftest;

import dev.jkvm.klib.kernel.proc.KernelScheduler;
import dev.jkvm.klib.kernel.proc.TaskBodies;
import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.mm.MemoryBlock;
import dev.jkvm.klib.kernel.sched.CpuStats;
import dev.jkvm.klib.kernel.sched.Scheduler;
import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;

/**
 * Kernel tasks on every CPU: each adds to its own counter and to one shared atomic counter,
 * yielding now and then and otherwise preempted by the tick, then exits with its own count.
 * Every other task is pinned to one CPU, round robin, so that every CPU runs some and the
 * affinity is checked; the rest may run anywhere. The joiner checks every exit value, the
 * counters, and the CPUs each task was seen on.
 *
 * There are four tasks per CPU (at least 8), so that every CPU has two pinned to it whatever the
 * CPU count; the kernel has KernelScheduler.STACKS task stacks, so with many CPUs the tasks are
 * spawned in waves of at most STACKS - 8 live ones, each wave joined before the next.
 */
public final class KernelTaskChecks {
    private KernelTaskChecks() {
    }

    public static final int ROUNDS = 4000;
    public static final int YIELD_EVERY = 1000;
    private static final int RECORD = 16;

    /**
     * +0 long shared total; task i's record at +64 + 16 * i: long own count, long (CPU it was
     * last seen on + 1) with bit 32 set once it was seen on two different CPUs.
     */
    private static long counters;
    /** CpuMask of the CPUs any task ran on. */
    private static long cpusSeen;
    private static final long MOVED = 1L << 32;

    public static long count(long index) {
        long record = counters + 64 + index * RECORD;
        for (int i = 0; i < ROUNDS; i++) {
            Memory.store64(record, Memory.load64(record) + 1);
            Atomic.fetchAdd64(counters, 1);
            if (i % YIELD_EVERY == YIELD_EVERY - 1) {
                markCpu(record + 8);
                KernelScheduler.yield();
            }
        }
        markCpu(record + 8);
        return Memory.load64(record);
    }

    /** Only the task itself writes its record; the CPU mask is shared, and CpuMask.set is atomic. */
    private static void markCpu(long seenAddress) {
        int cpu = KernelScheduler.currentCpu();
        long seen = Memory.load64(seenAddress);
        long last = seen & 0xFFFFFFFFL;
        if (last != 0 && last != cpu + 1) {
            seen |= MOVED;
        }
        Memory.store64(seenAddress, (seen & MOVED) | (cpu + 1));
        CpuMask.set(cpusSeen, cpu);
    }

    public static boolean run(int cpuCount) {
        int tasks = cpuCount * 4 < 8 ? 8 : cpuCount * 4;
        int wave = KernelScheduler.STACKS - 8;
        counters = BootAllocator.allocate(64 + tasks * (long) RECORD, 64);
        MemoryBlock.zero(counters, 64 + tasks * (long) RECORD);
        cpusSeen = BootAllocator.allocate(CpuMask.SIZE, 64);
        CpuMask.clearAll(cpusSeen);
        long handles = BootAllocator.allocate(tasks * 8L, 8);
        long switchesBefore = contextSwitches(cpuCount);
        boolean passed = true;
        long exitSum = 0;
        int affinityViolations = 0;
        for (int first = 0; first < tasks; first += wave) {
            int end = first + wave < tasks ? first + wave : tasks;
            for (int i = first; i < end; i++) {
                int pinned = i % 2 == 0 ? (i / 2) % cpuCount : -1;
                Memory.store64(handles + i * 8L,
                        KernelScheduler.spawnOn(TaskBodies.COUNTER, i, KernelScheduler.NORMAL_PRIORITY, pinned));
            }
            for (int i = first; i < end; i++) {
                long task = Memory.load64(handles + i * 8L);
                if (task == 0) {
                    passed = false;
                    continue;
                }
                long value = KernelScheduler.join(task);
                exitSum += value;
                long record = counters + 64 + i * (long) RECORD;
                if (value != ROUNDS || Memory.load64(record) != ROUNDS) {
                    passed = false;
                }
                long seen = Memory.load64(record + 8);
                int pinned = (i / 2) % cpuCount;
                if (i % 2 == 0 && ((seen & MOVED) != 0 || (seen & 0xFFFFFFFFL) != pinned + 1)) {
                    affinityViolations++;
                }
            }
        }
        long total = Atomic.loadVolatile64(counters);
        long expected = (long) tasks * ROUNDS;
        int cpusExpected = cpuCount;
        if (total != expected || exitSum != expected || CpuMask.count(cpusSeen) != cpusExpected
                || affinityViolations != 0) {
            passed = false;
        }
        Console.print("kernel tasks: ");
        Log.dec(tasks);
        Console.print(" tasks x ");
        Log.dec(ROUNDS);
        Console.print(" increments, shared counter ");
        Log.dec(total);
        Console.print(" of ");
        Log.dec(expected);
        Console.print(", exit values sum ");
        Log.dec(exitSum);
        Console.print(", ran on ");
        Log.dec(CpuMask.count(cpusSeen));
        Console.print(" of ");
        Log.dec(cpusExpected);
        Console.print(" cpus, pinned tasks off their cpu ");
        Log.dec(affinityViolations);
        Console.print(", ");
        Log.dec(contextSwitches(cpuCount) - switchesBefore);
        Console.print(" context switches: ");
        if (passed) {
            Console.print("PASS\n");
        } else {
            Console.print("FAIL\n");
        }
        return passed;
    }

    static long contextSwitches(int cpuCount) {
        long sum = 0;
        for (int cpu = 0; cpu < cpuCount; cpu++) {
            sum += CpuStats.get(Scheduler.runQueue(KernelScheduler.sched(), cpu), CpuStats.CONTEXT_SWITCHES);
        }
        return sum;
    }
}
