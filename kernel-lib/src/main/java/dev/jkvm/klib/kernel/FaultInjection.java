package dev.jkvm.klib.kernel;

import dev.jkvm.klib.kernel.acpi.Topology;
import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.cpu.CpuRecord;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.mm.KernelLayout;
import dev.jkvm.klib.kernel.proc.IdleTick;
import dev.jkvm.klib.kernel.proc.KernelScheduler;
import dev.jkvm.klib.kernel.proc.TaskBodies;
import dev.jkvm.klib.kernel.sched.BlockingSemaphore;
import dev.jkvm.klib.kernel.smp.ApStartup;
import dev.jkvm.klib.kernel.smp.IpiMailbox;
import dev.jkvm.klib.kernel.smp.IpiReason;
import dev.jkvm.klib.kernel.smp.SmpState;
import dev.jkvm.klib.kernel.trap.Panic;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;

/**
 * The failure paths the command line can ask for instead of a normal run, all in one place so
 * that Kernel.main stays the boot path and nothing else (the scheduler tests of test=sched-NAME
 * and test=boot belong to MainTask):
 * <ul>
 * <li>test=fault writes to the boot stack's guard page: an exception report.</li>
 * <li>test=write-text and test=xdata write to kernel text and jump into kernel data: page
 *     faults that show the page rights hold (CR0.WP, NX).</li>
 * <li>test=overflow recurses on the boot stack until it hits the guard page: a double fault
 *     reported from its IST stack.</li>
 * <li>test=hang keeps the first AP from getting ready: it is reported and left offline.</li>
 * <li>test=panic panics once every CPU is up: the panic stops the other CPUs.</li>
 * <li>test=lost-wakeup loses the reschedule IPI for a task queued on an idle AP: the stall is
 *     reported, the task runs after all, and the run fails.</li>
 * <li>test=deadlock has the main task wait on a semaphore nobody posts: the deadlock is
 *     reported and ends the run.</li>
 * </ul>
 */
final class FaultInjection {
    private FaultInjection() {
    }

    /** Whether the run jumps into data on purpose: then a missing NX is no reason to stop. */
    static boolean executesData() {
        return CommandLine.test() == CommandLine.TEST_EXECUTE_DATA;
    }

    /** After ACPI: test=hang needs an AP to hang, test=lost-wakeup one to lose a wake-up on. */
    static void checkMachine(long topology) {
        if (CommandLine.test() == CommandLine.TEST_LOST_WAKEUP && Topology.enabledCpuCount(topology) < 2) {
            Console.print("test=lost-wakeup needs at least two CPUs (it loses a wake-up sent to an AP), and this"
                    + " machine has one: give it more CPUs or drop test=lost-wakeup\n");
            Kernel.fail();
        }
        if (CommandLine.test() == CommandLine.TEST_HANG && Topology.enabledCpuCount(topology) < 2) {
            Console.print("test=hang needs at least two CPUs (it keeps the first AP from getting ready), and this"
                    + " machine has one: give it more CPUs or drop test=hang\n");
            Kernel.fail();
        }
    }

    /** Once the kernel's own page tables are live: the faults that test them. */
    static void afterPaging() {
        int test = CommandLine.test();
        if (test == CommandLine.TEST_FAULT) {
            Console.print("test: writing to the boot stack's guard page\n");
            Memory.store64(KernelLayout.get(KernelLayout.BSP_STACK_GUARD) + 64, 1);
        }
        if (test == CommandLine.TEST_WRITE_TEXT) {
            Console.print("test: writing to kernel text\n");
            Memory.store8(KernelLayout.get(KernelLayout.TEXT_START), (byte) 0xCC);
        }
        if (test == CommandLine.TEST_EXECUTE_DATA) {
            Console.print("test: jumping into kernel data\n");
            Asm.call("kernel_jump_to", KernelLayout.get(KernelLayout.BSP_PER_CPU));
        }
        if (test == CommandLine.TEST_OVERFLOW) {
            Console.print("test: unbounded recursion on the boot stack\n");
            Log.dec(recurse(0));
        }
    }

    /** Before the APs start. */
    static void beforeApsStart() {
        if (CommandLine.test() == CommandLine.TEST_HANG) {
            Console.print("test: cpu 1 will stop before it is ready\n");
            ApStartup.hangFirstApForTest();
        }
    }

    /** Once the APs are up. */
    static void afterApsStarted() {
        if (CommandLine.test() == CommandLine.TEST_PANIC) {
            Console.print("test: panicking on purpose\n");
            Panic.panic();
        }
    }

    /**
     * test=lost-wakeup, as the main task: the reschedule IPI for a task queued on an idle AP whose
     * tick is stopped is lost on purpose (IpiMailbox.loseNextForTest), the failure a real lost IPI
     * would cause. The task can then only run once StallCheck, on the housekeeping CPU, reports the
     * stall and resends the IPI; the run goes on to its end and fails. Without the check it would
     * hang. The main task first moves to the housekeeping CPU so that the AP, the last one, is idle.
     */
    static boolean lostWakeup() {
        KernelScheduler.moveCurrentTo(IdleTick.HOUSEKEEPING_CPU);
        long online = CpuRecord.onlineMask();
        int target = 0;
        for (int cpu = CpuMask.next(online, 0); cpu >= 0; cpu = CpuMask.next(online, cpu + 1)) {
            target = cpu;
        }
        for (int waited = 0; !IdleTick.isStopped(target); waited += 10) {
            if (waited >= 10000) {
                Console.print("test=lost-wakeup: cpu ");
                Log.dec(target);
                Console.print(" never stopped its tick, so no wake-up could be lost\n");
                return false;
            }
            KernelScheduler.sleepMs(10);
        }
        Console.print("test: the reschedule ipi for a task queued on cpu ");
        Log.dec(target);
        Console.print(" will be lost\n");
        IpiMailbox.loseNextForTest(SmpState.mailbox(), target, IpiReason.RESCHEDULE);
        long task = KernelScheduler.spawnOn(TaskBodies.ECHO, 41, KernelScheduler.NORMAL_PRIORITY, target);
        long value = task == 0 ? 0 : KernelScheduler.join(task);
        Console.print("test: the task on cpu ");
        Log.dec(target);
        Console.print(" returned ");
        Log.dec(value);
        Console.print("\n");
        KernelScheduler.allowEverywhere(KernelScheduler.currentTask());
        return value == 42;
    }

    /**
     * test=deadlock, as the main task: waits on a semaphore that nobody will ever post, with
     * nothing else to run and no timer armed. StallCheck reports the blocked task and ends the run
     * within seconds; returning would mean that it did not.
     */
    static boolean deadlock() {
        long semaphore = BootAllocator.allocate(BlockingSemaphore.SIZE, 64);
        BlockingSemaphore.init(semaphore, 0);
        Console.print("test: the main task waits on a semaphore nobody posts\n");
        BlockingSemaphore.down(KernelScheduler.sched(), semaphore);
        Console.print("test=deadlock: the wait ended\n");
        return false;
    }

    /**
     * Recurses until the stack runs into its guard page: the page fault cannot push its frame on
     * that stack, so the CPU raises a double fault, which runs on its own IST stack.
     */
    private static long recurse(long depth) {
        return recurse(depth + 1) + depth;
    }
}
