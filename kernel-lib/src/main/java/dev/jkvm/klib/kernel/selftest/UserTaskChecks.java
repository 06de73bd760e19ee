package dev.jkvm.klib.kernel.selftest;

import dev.jkvm.klib.kernel.proc.KernelScheduler;
import dev.jkvm.klib.kernel.proc.UserFaults;
import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.trap.Vectors;
import dev.jkvm.klib.kernel.user.UserPrograms;
import dev.jkvm.klib.kernel.user.UserSpace;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;

/**
 * Ring-3 tasks: a console write, a task reading kernel text (a page fault that must kill it
 * alone), a task dividing by zero (the compiled check's UD2 kills it), a semaphore producer and
 * consumer, and sleepers whose sleeps must last at least what they asked for.
 */
public final class UserTaskChecks {
    private UserTaskChecks() {
    }

    public static final long SLEEP_MS = 20;
    private static final int SLEEPERS = 3;
    private static final int INVALID_OPCODE = 6;

    public static boolean run(int cpuCount) {
        boolean passed = true;
        int prio = KernelScheduler.NORMAL_PRIORITY;
        long hello = KernelScheduler.spawnUser(UserPrograms.HELLO, 0, prio, -1);
        long hello0 = KernelScheduler.join(hello);
        Console.print("user hello: exit value ");
        passed &= check(hello0, hello0 >= 1000 && hello0 < 1000 + cpuCount);

        long intruder = KernelScheduler.spawnUser(UserPrograms.TOUCH_KERNEL, 0, prio, -1);
        long intruderExit = KernelScheduler.join(intruder);
        Console.print("user access to kernel memory: exit value ");
        passed &= check(intruderExit,
                intruderExit == UserFaults.KILLED_BASE - Vectors.PAGE_FAULT);

        long divider = KernelScheduler.spawnUser(UserPrograms.DIVIDE_BY_ZERO, 0, prio, -1);
        long dividerExit = KernelScheduler.join(divider);
        Console.print("user fault isolation (divide by zero): exit value ");
        passed &= check(dividerExit,
                dividerExit == UserFaults.KILLED_BASE - INVALID_OPCODE);

        UserSpace.resetSemaphore(UserPrograms.SEM_ITEMS, 0);
        UserSpace.resetSemaphore(UserPrograms.SEM_SLOTS, 1);
        long consumer = KernelScheduler.spawnUser(UserPrograms.CONSUMER, UserPrograms.ITEMS, prio, -1);
        long producer = KernelScheduler.spawnUser(UserPrograms.PRODUCER, UserPrograms.ITEMS, prio, cpuCount > 1 ? 1 : 0);
        long received = KernelScheduler.join(consumer);
        long produced = KernelScheduler.join(producer);
        long expectedSum = (long) UserPrograms.ITEMS * (UserPrograms.ITEMS + 1) / 2;
        Console.print("user semaphores: producer sent ");
        passed &= check(produced, produced == UserPrograms.ITEMS
                && received == expectedSum);

        long start = Cpu.rdtsc();
        long sleepers = 0;
        long s0 = KernelScheduler.spawnUser(UserPrograms.SLEEPER, SLEEP_MS, prio, -1);
        long s1 = KernelScheduler.spawnUser(UserPrograms.SLEEPER, SLEEP_MS, prio, -1);
        long s2 = KernelScheduler.spawnUser(UserPrograms.SLEEPER, SLEEP_MS, prio, -1);
        sleepers += KernelScheduler.join(s0);
        sleepers += KernelScheduler.join(s1);
        sleepers += KernelScheduler.join(s2);
        long elapsedMs = (Cpu.rdtsc() - start) / KernelScheduler.tscPerMs();
        Console.print("user sleepers: sleeps done ");
        passed &= check(sleepers, sleepers == 3 * SLEEPERS && elapsedMs >= 3 * SLEEP_MS);
        Console.print("user sleepers: 3 x 3 sleeps of ");
        Log.dec(SLEEP_MS);
        Console.print(" ms took ");
        Log.dec(elapsedMs);
        Console.print(" ms\n");
        return passed;
    }

    /** Ends a result line whose label the caller printed: the value and PASS or FAIL. */
    static boolean check(long value, boolean ok) {
        Log.dec(value);
        if (ok) {
            Console.print(": PASS\n");
        } else {
            Console.print(": FAIL\n");
        }
        return ok;
    }
}
