package dev.jkvm.klib.kernel.task;

import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.mm.MemoryBlock;
import dev.jkvm.klib.kernel.sched.CpuStats;
import dev.jkvm.klib.kernel.sched.Scheduler;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;

/**
 * Kernel tasks on every CPU: each adds to its own counter and to one shared atomic counter,
 * yielding now and then and otherwise preempted by the tick, then exits with its own count.
 * Every other task is pinned to one CPU, round robin, so that every CPU runs some and the
 * affinity is checked; the rest may run anywhere. The joiner checks every exit value, the
 * counters, and the CPUs each task was seen on.
 */
public final class KernelTaskTest {
    private KernelTaskTest() {
    }

    public static final int ROUNDS = 4000;
    public static final int YIELD_EVERY = 1000;
    private static final int RECORD = 16;

    /** +0 long shared total; task i's record at +64 + 16 * i: long own count, long CPU-seen bits. */
    private static long counters;

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

    private static void markCpu(long bitsAddress) {
        int cpu = KernelScheduler.currentCpu();
        if (cpu < 64) {
            long bits = Atomic.loadVolatile64(bitsAddress);
            while (!Atomic.compareAndSet64(bitsAddress, bits, bits | (1L << cpu))) {
                bits = Atomic.loadVolatile64(bitsAddress);
            }
        }
    }

    public static boolean run(int cpuCount) {
        int tasks = cpuCount * 4 < 8 ? 8 : cpuCount * 4;
        if (tasks > KernelScheduler.STACKS - 8) {
            tasks = KernelScheduler.STACKS - 8;
        }
        counters = BootAllocator.allocate(64 + tasks * (long) RECORD, 64);
        MemoryBlock.zero(counters, 64 + tasks * (long) RECORD);
        long handles = BootAllocator.allocate(tasks * 8L, 8);
        long switchesBefore = contextSwitches(cpuCount);
        for (int i = 0; i < tasks; i++) {
            int pinned = i % 2 == 0 ? (i / 2) % cpuCount : -1;
            Memory.store64(handles + i * 8L,
                    KernelScheduler.spawnOn(TaskBodies.COUNTER, i, KernelScheduler.NORMAL_PRIORITY, pinned));
        }
        boolean passed = true;
        long exitSum = 0;
        long cpusSeen = 0;
        int affinityViolations = 0;
        for (int i = 0; i < tasks; i++) {
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
            cpusSeen |= seen;
            int pinned = (i / 2) % cpuCount;
            if (i % 2 == 0 && pinned < 64 && seen != 1L << pinned) {
                affinityViolations++;
            }
        }
        long total = Atomic.loadVolatile64(counters);
        long expected = (long) tasks * ROUNDS;
        int cpusExpected = cpuCount < 64 ? cpuCount : 64;
        if (total != expected || exitSum != expected || bitCount(cpusSeen) != cpusExpected
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
        Log.dec(bitCount(cpusSeen));
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

    private static int bitCount(long bits) {
        int count = 0;
        for (int i = 0; i < 64; i++) {
            if ((bits & (1L << i)) != 0) {
                count++;
            }
        }
        return count;
    }

    static long contextSwitches(int cpuCount) {
        long sum = 0;
        for (int cpu = 0; cpu < cpuCount; cpu++) {
            sum += CpuStats.get(Scheduler.runQueue(KernelScheduler.sched(), cpu), CpuStats.CONTEXT_SWITCHES);
        }
        return sum;
    }
}
