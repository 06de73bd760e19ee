package dev.jkvm.klib.kernel.proc;

import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.kernel.cpu.PerCpuArea;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.mm.PageTables;
import dev.jkvm.klib.kernel.sched.IdleLoop;
import dev.jkvm.klib.kernel.sched.SchedArch;
import dev.jkvm.klib.kernel.sched.Scheduler;
import dev.jkvm.klib.kernel.sched.Sleep;
import dev.jkvm.klib.kernel.sched.Task;
import dev.jkvm.klib.kernel.sched.TaskExit;
import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.smp.IdleCall;
import dev.jkvm.klib.kernel.smp.IpiMailbox;
import dev.jkvm.klib.kernel.smp.IpiReason;
import dev.jkvm.klib.kernel.smp.SmpState;
import dev.jkvm.klib.kernel.sync.InterruptFlag;
import dev.jkvm.klib.kernel.trap.Vectors;
import dev.jkvm.klib.kernel.user.UserSpace;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * The scheduler (package sched) wired into the kernel: one scheduler block for every CPU, started
 * by the boot CPU once the SMP self-tests have passed; each CPU then runs its boot context as its
 * idle task with a periodic local APIC timer as the preemption tick, and the mailbox IPI's
 * RESCHEDULE reason calls the scheduler. Kernel tasks run compiled bodies (TaskBodies) on stacks
 * from KernelStacks.
 *
 * The tick is periodic (Intel SDM Vol. 3A 11.5.4, LVT timer mode 01) rather than re-armed one-shot
 * as TimerArming could do: a one-shot would have to be re-armed on every path that switches to a
 * task, and a missed re-arm silently stops preemption on that CPU. An idle CPU with nothing to
 * do stops it until its next mailbox interrupt (IdleTick).
 */
public final class KernelScheduler {
    private KernelScheduler() {
    }

    public static final int TICK_MS = 10;
    /** Kernel stacks, i.e. tasks alive at once (the task table has room for the idle tasks too). */
    public static final int STACKS = 96;
    public static final int NORMAL_PRIORITY = 2;
    /** LVT timer bits 18:17 = 01: periodic (Intel SDM Vol. 3A 11.5.1, Figure 11-8). */
    private static final int LVT_PERIODIC = 1 << 17;
    /** Divide configuration 0b0011: divide by 16, the rate PitCalibration measured. */
    private static final int DIVIDE_BY_16 = 3;

    /** +0 int running, +4 int CPUs that entered their idle task. */
    private static long flags;
    private static long block;
    private static long online;
    /** One CpuMask per CPU for building affinity masks with interrupts off. */
    private static long scratchMasks;
    private static int lapicTicksPerTick;
    private static long tscPerTick;

    public static long sched() {
        return block;
    }

    public static long tscPerMs() {
        return tscPerTick / TICK_MS;
    }

    public static boolean isRunning() {
        return flags != 0 && Atomic.loadVolatile32(flags) != 0;
    }

    /**
     * Boot CPU, after the SMP self-tests: sets the scheduler up and makes every online CPU enter
     * its idle task; returns once they all have. The caller then spawns work and calls idle().
     */
    public static void start(int cpuCount, long onlineMask, long lapicTicksPerMs, long tscTicksPerMs) {
        flags = BootAllocator.allocate(64, 64);
        Memory.store64(flags, 0L);
        online = onlineMask;
        scratchMasks = BootAllocator.allocate(cpuCount * (long) CpuMask.SIZE, 8);
        lapicTicksPerTick = (int) (lapicTicksPerMs * TICK_MS);
        tscPerTick = tscTicksPerMs * TICK_MS;
        int capacity = STACKS + cpuCount;
        block = BootAllocator.allocate(Scheduler.bytesFor(cpuCount, capacity), 64);
        Scheduler.init(block, cpuCount, capacity, SmpState.mailbox());
        Scheduler.setTrampoline(block, SchedArch.taskTrampolineAddress());
        IdleTick.init(lapicTicksPerTick, TICK_MS);
        StallCheck.init(cpuCount);
        Atomic.storeVolatile32(flags, 1);
        Atomic.fetchAdd32(flags + 4, 1);
        startTimer();
        IpiMailbox.postMany(SmpState.mailbox(), 0, onlineMask, IpiReason.RESCHEDULE);
        int expected = CpuMask.count(onlineMask);
        while (Atomic.loadVolatile32(flags + 4) < expected) {
            Cpu.pause();
        }
    }

    /** An AP, once released: waits for the scheduler, then becomes this CPU's idle task. */
    public static void apIdle() {
        int cpu = PerCpuArea.cpuIndex();
        while (!isRunning()) {
            IdleCall.idleOnce(cpu);
        }
        Atomic.fetchAdd32(flags + 4, 1);
        startTimer();
        IdleLoop.run(block);
    }

    /** The boot CPU's last step: its boot context is its idle task from now on. */
    public static void idle() {
        IdleLoop.run(block);
    }

    private static void startTimer() {
        Lapic.write(Lapic.TIMER_DIVIDE, DIVIDE_BY_16);
        Lapic.write(Lapic.LVT_TIMER, LVT_PERIODIC | Vectors.TIMER);
        Lapic.write(Lapic.TIMER_INITIAL, lapicTicksPerTick);
    }

    /**
     * From the trap handler after the EOI of a timer or mailbox interrupt: the tick, and the
     * switch the tick or a reschedule IPI asked for. The EOI comes first because the switch may
     * leave this interrupt's frame for a long time.
     */
    public static void afterInterrupt(boolean timer) {
        int cpu = SchedArch.currentCpu();
        boolean switchNow;
        if (timer) {
            long now = Cpu.rdtsc();
            switchNow = Scheduler.tick(block, cpu, now);
            IdleTick.afterTick(block, cpu, switchNow);
            if (cpu == IdleTick.HOUSEKEEPING_CPU) {
                StallCheck.atHousekeepingTick(block, now, tscPerMs());
            }
        } else {
            IdleTick.restart(cpu, lapicTicksPerTick);
            switchNow = Scheduler.needResched(block, cpu);
        }
        if (switchNow) {
            Scheduler.schedule(block, cpu, Cpu.rdtsc());
        }
    }

    /** The mailbox handler saw a RESCHEDULE reason. */
    public static void onRescheduleIpi(int cpu) {
        Scheduler.onRescheduleIpi(block, cpu);
    }

    /**
     * Creates and starts a kernel task running TaskBodies body with argument, allowed on every
     * online CPU; returns the task, or 0 when no stack or task slot is free.
     */
    public static long spawn(int body, long argument, int priority) {
        return spawnOn(body, argument, priority, -1);
    }

    /** As spawn, but only allowed on pinnedCpu (-1: every online CPU). */
    public static long spawnOn(int body, long argument, int priority, int pinnedCpu) {
        return create(body, argument, priority, pinnedCpu, -1);
    }

    /**
     * Creates and starts a ring-3 task running user program userProgram (user.UserPrograms),
     * which reads argument through a system call; returns 0 when no stack or slot is free.
     */
    public static long spawnUser(int userProgram, long argument, int priority, int pinnedCpu) {
        return create(0, argument, priority, pinnedCpu, userProgram);
    }

    private static long create(int body, long argument, int priority, int pinnedCpu, int userProgram) {
        int stackIndex = KernelStacks.take();
        if (stackIndex < 0) {
            return 0L;
        }
        long stack = KernelStacks.base(stackIndex);
        boolean interrupts = InterruptFlag.enabled();
        Cpu.cli();
        long task = Scheduler.createTask(block, body, argument, priority, stack, KernelStacks.STACK_SIZE);
        if (task == 0) {
            if (interrupts) {
                Cpu.sti();
            }
            KernelStacks.give(stackIndex);
            return 0L;
        }
        if (userProgram >= 0) {
            Scheduler.makeUser(task, PageTables.root(), UserSpace.entry(userProgram), UserSpace.stackTop(stackIndex),
                    UserSpace.fpuArea(stackIndex));
        }
        int cpu = SchedArch.currentCpu();
        if (pinnedCpu < 0) {
            Scheduler.setAffinity(block, cpu, task, online);
        } else {
            long mask = scratchMasks + cpu * (long) CpuMask.SIZE;
            CpuMask.clearAll(mask);
            CpuMask.set(mask, pinnedCpu);
            Scheduler.setAffinity(block, cpu, task, mask);
        }
        Scheduler.start(block, cpu, task);
        IdleTick.restart(cpu, lapicTicksPerTick);
        if (interrupts) {
            Cpu.sti();
        }
        return task;
    }

    /** Waits for the task to exit, frees its slot and stack, and returns its exit value. */
    public static long join(long task) {
        long value = waitForExit(task);
        reap(task);
        return value;
    }

    /** Waits for the task to exit (its record stays readable until reap); returns its exit value. */
    public static long waitForExit(long task) {
        return TaskExit.join(block, task);
    }

    /** Frees an exited task's slot and stack. */
    public static void reap(long task) {
        long stack = Memory.load64(task + Task.STACK_BASE);
        TaskExit.reap(block, task);
        KernelStacks.give(KernelStacks.indexOf(stack));
    }

    /** Lets a task run on every online CPU from its next placement (balancing may pull it). */
    public static void allowEverywhere(long task) {
        boolean interrupts = InterruptFlag.enabled();
        Cpu.cli();
        Scheduler.setAffinity(block, SchedArch.currentCpu(), task, online);
        if (interrupts) {
            Cpu.sti();
        }
    }

    /** Moves the running task onto cpu and keeps it there (until allowEverywhere); returns there. */
    public static void moveCurrentTo(int cpu) {
        boolean interrupts = InterruptFlag.enabled();
        Cpu.cli();
        int self = SchedArch.currentCpu();
        long mask = scratchMasks + self * (long) CpuMask.SIZE;
        CpuMask.clearAll(mask);
        CpuMask.set(mask, cpu);
        Scheduler.setAffinity(block, self, Scheduler.current(block, self), mask);
        if (self != cpu) {
            Scheduler.schedule(block, self, Cpu.rdtsc());
        }
        if (interrupts) {
            Cpu.sti();
        }
    }

    /** The running task sleeps at least this long. */
    public static void sleepMs(long milliseconds) {
        Sleep.until(block, Cpu.rdtsc() + milliseconds * tscPerMs());
    }

    /** The running task gives up the CPU to an equal or higher priority task, if any. */
    public static void yield() {
        boolean interrupts = InterruptFlag.enabled();
        Cpu.cli();
        Scheduler.schedule(block, SchedArch.currentCpu(), Cpu.rdtsc());
        if (interrupts) {
            Cpu.sti();
        }
    }

    public static long currentTask() {
        boolean interrupts = InterruptFlag.enabled();
        Cpu.cli();
        long task = Scheduler.current(block, SchedArch.currentCpu());
        if (interrupts) {
            Cpu.sti();
        }
        return task;
    }

    public static int currentCpu() {
        return SchedArch.currentCpu();
    }
}
