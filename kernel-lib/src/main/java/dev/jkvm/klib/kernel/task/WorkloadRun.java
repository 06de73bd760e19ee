package dev.jkvm.klib.kernel.task;

import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.user.UserPrograms;
import dev.jkvm.klib.kernel.user.UserSpace;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * The image's job: the workload (WorkloadDescriptor) run as TASKS ring-3 tasks over every CPU,
 * joined and summed; the sum is checked against the answer the host computed at build time, and
 * the per-CPU table follows. With the scheduler checks on (the default image), blocking tasks (a
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

    public static boolean run(int cpuCount) {
        int prio = KernelScheduler.NORMAL_PRIORITY;
        long tasks = WorkloadDescriptor.get(WorkloadDescriptor.TASKS);
        long expected = WorkloadDescriptor.get(WorkloadDescriptor.EXPECTED);
        boolean checks = WorkloadDescriptor.schedulerChecks();
        long idleBase = BootAllocator.allocate(cpuCount * 8L, 8);
        long handles = BootAllocator.allocate(tasks * 8L, 8);
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
                sum += KernelScheduler.join(Memory.load64(handles + joined * 8L));
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
            sum += KernelScheduler.join(Memory.load64(handles + joined * 8L));
            joined++;
        }
        long received = consumer == 0 ? 0 : KernelScheduler.join(consumer);
        long produced = producer == 0 ? 0 : KernelScheduler.join(producer);
        long sleeps = (sleeper0 == 0 ? 0 : KernelScheduler.join(sleeper0)) + (sleeper1 == 0 ? 0 : KernelScheduler.join(sleeper1));
        long end = Cpu.rdtsc();
        passed &= spawned == tasks && sum == expected;
        if (checks) {
            long expectedSum = (long) UserPrograms.WORKLOAD_ITEMS * (UserPrograms.WORKLOAD_ITEMS + 1) / 2;
            passed &= received == expectedSum && produced == UserPrograms.WORKLOAD_ITEMS && sleeps == SLEEPERS * 3;
        }
        Console.print("workload: ");
        Log.puts(WorkloadDescriptor.get(WorkloadDescriptor.DESCRIPTION));
        Console.print(" = ");
        Log.dec(sum);
        Console.print(" (host at build time: ");
        Log.dec(expected);
        Console.print("), ");
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
