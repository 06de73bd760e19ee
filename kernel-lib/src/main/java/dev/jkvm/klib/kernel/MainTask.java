package dev.jkvm.klib.kernel;

import dev.jkvm.klib.kernel.acpi.SoftOff;
import dev.jkvm.klib.kernel.sched.Scheduler;
import dev.jkvm.klib.kernel.selftest.KernelTaskChecks;
import dev.jkvm.klib.kernel.selftest.SchedBench;
import dev.jkvm.klib.kernel.selftest.SchedChecks;
import dev.jkvm.klib.kernel.selftest.UserTaskChecks;
import dev.jkvm.klib.kernel.proc.KernelScheduler;
import dev.jkvm.klib.kernel.proc.StallCheck;
import dev.jkvm.klib.kernel.proc.WorkloadDescriptor;
import dev.jkvm.klib.kernel.proc.WorkloadRun;
import dev.jkvm.klib.kernel.trap.ExitCodes;
import dev.jkvm.klib.rt.Console;

/**
 * The kernel's first task, started once the scheduler runs on every CPU: runs the image's
 * workload (after the scheduler's in-guest tests when the image asks for them, as the default
 * image does), prints the result line and ends the VM: ACPI S5 soft-off on success (SoftOff,
 * isa-debug-exit 0 where that is unavailable), isa-debug-exit SELF_TEST_FAILED otherwise.
 */
public final class MainTask {
    private MainTask() {
    }

    /** Low byte of the test word for "test=sched-NAME"; the next byte is NAME's first letter. */
    public static final int SCHED_TEST = 7;
    /** The test word for "test=boot": every CPU booted and scheduling is the whole run. */
    public static final int BOOT_ONLY = 8;

    public static long run(long test) {
        int cpuCount = Scheduler.cpuCount(KernelScheduler.sched());
        boolean passed;
        if (test == BOOT_ONLY) {
            Console.print("boot only: the scheduler runs on every cpu\n");
            passed = true;
        } else if (test == CommandLine.TEST_LOST_WAKEUP) {
            passed = FaultInjection.lostWakeup();
        } else if (test == CommandLine.TEST_DEADLOCK) {
            passed = FaultInjection.deadlock();
        } else if ((test & 0xFF) == SCHED_TEST) {
            passed = schedTest((int) (test >>> 8) & 0xFF, cpuCount);
        } else if (WorkloadDescriptor.schedulerChecks()) {
            passed = KernelTaskChecks.run(cpuCount);
            passed &= UserTaskChecks.run(cpuCount);
            passed &= WorkloadRun.run(cpuCount);
        } else {
            passed = WorkloadRun.run(cpuCount);
        }
        passed &= StallCheck.passed();
        if (passed) {
            Console.print("result: PASS\n");
            SoftOff.powerOff();
            ExitCodes.exit(ExitCodes.SUCCESS);
        }
        Console.print("result: FAIL\n");
        ExitCodes.exit(ExitCodes.SELF_TEST_FAILED);
        return 0;
    }

    /**
     * fairness, migration, priority, timeouts, stress (SchedChecks); bench (SchedBench); affinity and join
     * (KernelTaskChecks); isolation and kernel-memory (UserTaskChecks).
     */
    private static boolean schedTest(int letter, int cpuCount) {
        if (letter == 'f') {
            return SchedChecks.fairness();
        }
        if (letter == 'm') {
            return SchedChecks.migration(cpuCount);
        }
        if (letter == 'p') {
            return SchedChecks.priority();
        }
        if (letter == 't') {
            return SchedChecks.timeouts();
        }
        if (letter == 's') {
            return SchedChecks.stress();
        }
        if (letter == 'b') {
            return SchedBench.run(cpuCount);
        }
        if (letter == 'a' || letter == 'j') {
            return KernelTaskChecks.run(cpuCount);
        }
        if (letter == 'i' || letter == 'k') {
            return UserTaskChecks.run(cpuCount);
        }
        Console.print("sched test: unknown name after test=sched- (use fairness, migration, priority, timeouts,"
                + " stress, bench, affinity, join, isolation or kernel-memory)\n");
        return false;
    }
}
