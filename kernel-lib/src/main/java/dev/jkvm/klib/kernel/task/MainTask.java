package dev.jkvm.klib.kernel.task;

import dev.jkvm.klib.kernel.sched.Scheduler;
import dev.jkvm.klib.kernel.trap.ExitCodes;
import dev.jkvm.klib.rt.Console;

/**
 * The kernel's first task, started once the scheduler runs on every CPU: runs the scheduler's
 * in-guest tests, prints the result line and ends the VM through isa-debug-exit.
 */
public final class MainTask {
    private MainTask() {
    }

    public static long run(long test) {
        int cpuCount = Scheduler.cpuCount(KernelScheduler.sched());
        boolean passed = KernelTaskTest.run(cpuCount);
        passed &= UserTaskTest.run(cpuCount);
        passed &= WorkloadRun.run(cpuCount);
        if (passed) {
            Console.print("result: PASS\n");
            ExitCodes.exit(ExitCodes.SUCCESS);
        }
        Console.print("result: FAIL\n");
        ExitCodes.exit(ExitCodes.SELF_TEST_FAILED);
        return 0;
    }
}
