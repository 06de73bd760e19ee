package dev.jkvm.klib.kernel.proc;

import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.mm.MemoryBlock;
import dev.jkvm.klib.kernel.trap.SourceLines;
import dev.jkvm.klib.kernel.user.UserPrograms;
import dev.jkvm.klib.kernel.user.UserSpace;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * The image's job: the workload (WorkloadDescriptor) run as TASKS ring-3 tasks over every CPU,
 * joined and summed; the sum is checked against the answer the host computed at build time, and
 * the per-CPU table follows. A task killed by a fault or the watchdog (proc.UserFaults) has no
 * result: the run reports "workload: F of N tasks failed (first: index I, WHAT at FRAME)", compares
 * the sum over the tasks that finished with the host's results for the same indices, and fails. With the scheduler checks on (the default image), blocking tasks (a
 * semaphore producer and consumer, two sleepers) run alongside and must finish too.
 *
 * No more tasks may be alive at once than there are kernel stacks, so when a spawn finds none
 * free, the oldest workload task is joined first: any number of tasks runs in a bounded window.
 */
public final class WorkloadRun {
    private WorkloadRun() {
    }

    public static final long SLEEP_MS = 30;
    private static final int SLEEPERS = 2;
    /** Per task index: kind (0 while it has not failed), two details, line-table row (proc.UserFaults). */
    private static final int FAILURE_BYTES = 32;

    private static long failures;
    private static long failureCount;

    /**
     * Called by proc.UserFaults when it kills workload task index: remembers what and where for
     * the summary. Each index has its own record, so CPUs killing tasks at once need no lock.
     */
    public static void recordFailure(long index, int kind, long detailA, long detailB, long row) {
        if (failures == 0 || index < 0 || index >= WorkloadDescriptor.get(WorkloadDescriptor.TASKS)) {
            return;
        }
        long record = failures + index * FAILURE_BYTES;
        Memory.store64(record + 8, detailA);
        Memory.store64(record + 16, detailB);
        Memory.store64(record + 24, row);
        Memory.store64(record, kind);
    }

    private static boolean failed(long index) {
        return Memory.load64(failures + index * FAILURE_BYTES) != 0;
    }

    public static boolean run(int cpuCount) {
        int prio = KernelScheduler.NORMAL_PRIORITY;
        long tasks = WorkloadDescriptor.get(WorkloadDescriptor.TASKS);
        long expected = WorkloadDescriptor.get(WorkloadDescriptor.EXPECTED);
        boolean checks = WorkloadDescriptor.schedulerChecks();
        long idleBase = BootAllocator.allocate(cpuCount * 8L, 8);
        long handles = BootAllocator.allocate(tasks * 8L, 8);
        failures = BootAllocator.allocate(tasks * FAILURE_BYTES, 8);
        MemoryBlock.zero(failures, tasks * FAILURE_BYTES);
        long results = WorkloadDescriptor.get(WorkloadDescriptor.RESULTS);
        long finishedExpected = 0;
        SchedTable.snapshotIdle(KernelScheduler.sched(), idleBase);
        long consumer = 0;
        long producer = 0;
        long sleeper0 = 0;
        long sleeper1 = 0;
        long start = Cpu.rdtsc();
        if (checks) {
            UserSpace.resetSemaphore(UserPrograms.SEM_ITEMS, 0);
            UserSpace.resetSemaphore(UserPrograms.SEM_SLOTS, 1);
            consumer = KernelScheduler.spawnUser(UserPrograms.CONSUMER, UserPrograms.WORKLOAD_ITEMS, prio, -1);
            producer = KernelScheduler.spawnUser(UserPrograms.PRODUCER, UserPrograms.WORKLOAD_ITEMS, prio, -1);
            sleeper0 = KernelScheduler.spawnUser(UserPrograms.SLEEPER, SLEEP_MS, prio, -1);
            sleeper1 = KernelScheduler.spawnUser(UserPrograms.SLEEPER, SLEEP_MS, prio, -1);
        }
        boolean passed = !checks || consumer != 0 && producer != 0 && sleeper0 != 0 && sleeper1 != 0;
        long sum = 0;
        long spawned = 0;
        long joined = 0;
        while (spawned < tasks) {
            long task = KernelScheduler.spawnUser(UserPrograms.WORKLOAD, spawned, prio, -1);
            if (task == 0 && joined < spawned) {
                long value = KernelScheduler.join(Memory.load64(handles + joined * 8L));
                if (!failed(joined)) {
                    sum += value;
                    finishedExpected += Memory.load64(results + joined * 8L);
                }
                joined++;
            } else if (task == 0) {
                passed = false;
                break;
            } else {
                Memory.store64(handles + spawned * 8L, task);
                spawned++;
            }
        }
        while (joined < spawned) {
            long value = KernelScheduler.join(Memory.load64(handles + joined * 8L));
            // A killed task's exit value is no result: the sum is compared over the tasks that finished.
            if (!failed(joined)) {
                sum += value;
                finishedExpected += Memory.load64(results + joined * 8L);
            }
            joined++;
        }
        long firstFailed = -1;
        failureCount = 0;
        for (long i = 0; i < spawned; i++) {
            if (failed(i)) {
                failureCount++;
                if (firstFailed < 0) {
                    firstFailed = i;
                }
            }
        }
        long received = consumer == 0 ? 0 : KernelScheduler.join(consumer);
        long produced = producer == 0 ? 0 : KernelScheduler.join(producer);
        long sleeps = (sleeper0 == 0 ? 0 : KernelScheduler.join(sleeper0)) + (sleeper1 == 0 ? 0 : KernelScheduler.join(sleeper1));
        long end = Cpu.rdtsc();
        passed &= spawned == tasks && sum == finishedExpected && failureCount == 0;
        if (checks) {
            long expectedSum = (long) UserPrograms.WORKLOAD_ITEMS * (UserPrograms.WORKLOAD_ITEMS + 1) / 2;
            passed &= received == expectedSum && produced == UserPrograms.WORKLOAD_ITEMS && sleeps == SLEEPERS * 3;
        }
        if (failureCount > 0) {
            long record = failures + firstFailed * FAILURE_BYTES;
            Console.print("workload: ");
            Log.dec(failureCount);
            Console.print(" of ");
            Log.dec(tasks);
            Console.print(" tasks failed (first: index ");
            Log.dec(firstFailed);
            Console.print(", ");
            UserFaults.describe((int) Memory.load64(record), Memory.load64(record + 8), Memory.load64(record + 16), false);
            if (Memory.load64(record + 24) != 0) {
                Console.print(" at ");
                SourceLines.print(Memory.load64(record + 24));
            }
            Console.print(")\n");
        }
        Console.print("workload: ");
        Log.puts(WorkloadDescriptor.get(WorkloadDescriptor.DESCRIPTION));
        Console.print(" = ");
        Log.dec(sum);
        if (failureCount == 0) {
            Console.print(" (host at build time: ");
            Log.dec(expected);
            Console.print("), ");
        } else {
            Console.print(" over the ");
            Log.dec(spawned - failureCount);
            Console.print(" finished tasks (host at build time: ");
            Log.dec(finishedExpected);
            Console.print("), ");
        }
        Log.dec(spawned);
        Console.print(" ring-3 tasks; ");
        if (checks) {
            Console.print("producer/consumer sum ");
            Log.dec(received);
            Console.print(", sleeper sleeps ");
            Log.dec(sleeps);
            Console.print("; ");
        }
        Log.dec((end - start) / KernelScheduler.tscPerMs());
        Console.print(" ms: ");
        if (passed) {
            Console.print("PASS\n");
        } else {
            Console.print("FAIL\n");
        }
        SchedTable.print(KernelScheduler.sched(), start, end, idleBase);
        return passed;
    }
}
