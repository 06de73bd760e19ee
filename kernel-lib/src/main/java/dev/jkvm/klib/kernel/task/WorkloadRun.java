package dev.jkvm.klib.kernel.task;

import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.user.UserPrograms;
import dev.jkvm.klib.kernel.user.UserSpace;
import dev.jkvm.klib.kernel.user.Workload;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * The default image's job: Workload's prime count split into CHUNKS CPU-bound ring-3 tasks, run
 * alongside blocking ones (a semaphore producer and consumer, two sleepers), all joined; the sum
 * is checked against the answer the host computed at build time, and the per-CPU table follows.
 */
public final class WorkloadRun {
    private WorkloadRun() {
    }

    public static final long SLEEP_MS = 30;

    public static boolean run(int cpuCount) {
        int prio = KernelScheduler.NORMAL_PRIORITY;
        long idleBase = BootAllocator.allocate(cpuCount * 8L, 8);
        long handles = BootAllocator.allocate(Workload.CHUNKS * 8L, 8);
        SchedTable.snapshotIdle(idleBase);
        UserSpace.resetSemaphore(UserPrograms.SEM_ITEMS, 0);
        UserSpace.resetSemaphore(UserPrograms.SEM_SLOTS, 1);
        long start = Cpu.rdtsc();
        long consumer = KernelScheduler.spawnUser(UserPrograms.CONSUMER, 0, prio, -1);
        long producer = KernelScheduler.spawnUser(UserPrograms.PRODUCER, 0, prio, -1);
        long sleeper0 = KernelScheduler.spawnUser(UserPrograms.SLEEPER, SLEEP_MS, prio, -1);
        long sleeper1 = KernelScheduler.spawnUser(UserPrograms.SLEEPER, SLEEP_MS, prio, -1);
        for (int i = 0; i < Workload.CHUNKS; i++) {
            Memory.store64(handles + i * 8L, KernelScheduler.spawnUser(UserPrograms.PRIMES, i, prio, -1));
        }
        boolean passed = consumer != 0 && producer != 0 && sleeper0 != 0 && sleeper1 != 0;
        long primes = 0;
        for (int i = 0; i < Workload.CHUNKS; i++) {
            long task = Memory.load64(handles + i * 8L);
            if (task == 0) {
                passed = false;
            } else {
                primes += KernelScheduler.join(task);
            }
        }
        long received = consumer == 0 ? 0 : KernelScheduler.join(consumer);
        long produced = producer == 0 ? 0 : KernelScheduler.join(producer);
        long sleeps = (sleeper0 == 0 ? 0 : KernelScheduler.join(sleeper0)) + (sleeper1 == 0 ? 0 : KernelScheduler.join(sleeper1));
        long end = Cpu.rdtsc();
        long expectedSum = (long) UserPrograms.ITEMS * (UserPrograms.ITEMS + 1) / 2;
        passed &= primes == Workload.expected && received == expectedSum && produced == UserPrograms.ITEMS
                && sleeps == 6;
        Console.print("workload: primes below ");
        Log.dec(Workload.LIMIT);
        Console.print(" = ");
        Log.dec(primes);
        Console.print(" (host at build time: ");
        Log.dec(Workload.expected);
        Console.print("), ");
        Log.dec(Workload.CHUNKS);
        Console.print(" ring-3 tasks; producer/consumer sum ");
        Log.dec(received);
        Console.print(", sleeper sleeps ");
        Log.dec(sleeps);
        Console.print("; ");
        Log.dec((end - start) / KernelScheduler.tscPerMs());
        Console.print(" ms: ");
        if (passed) {
            Console.print("PASS\n");
        } else {
            Console.print("FAIL\n");
        }
        SchedTable.print(start, end, idleBase);
        return passed;
    }
}
