package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.kernel.mm.MemoryBlock;
import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.smp.IpiMailbox;
import dev.jkvm.klib.kernel.smp.IpiReason;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * The scheduler: per-CPU priority run queues (RunQueue), placement on creation and wake-up
 * (CpuSelect), time slices and preemption on the timer tick, load balancing (LoadBalance), and
 * the switch itself (through SchedArch). All its state lives in one block of memory the kernel
 * allocates (bytesFor), named by its address, sched, in every call.
 *
 * Entry points for the architecture (all with RFLAGS.IF = 0, see SchedArch):
 * the timer interrupt calls tick(sched, cpu, tsc) and, when it returns true, schedule; the
 * mailbox IPI handler calls onRescheduleIpi for IpiReason.RESCHEDULE and then schedule; the
 * return path of an interrupt calls preemptIfNeeded; each CPU's boot context becomes its idle
 * task and runs IdleLoop, to which schedule returns exactly when nothing else is runnable; the
 * trampoline of a new task calls finishSwitch first. TimerArming programs the next tick.
 *
 * How a wake-up racing with the sleeper's own switch is made safe: a task's saved RSP is 0
 * while it is on a CPU and becomes non-zero only when the context switch has left its stack.
 * A CPU that picked a task spins (outside every lock) until its saved RSP is non-zero before
 * switching to it, and only then marks it RUNNING; the CPU still on that task's stack sees it
 * RUNNABLE in its schedule() and so neither re-queues nor touches it.
 *
 * Layout of the header (HEADER bytes; the task table header, run queues and task records
 * follow, see bytesFor):
 * <pre>
 *   +0  int  cpuCount
 *   +4  int  sliceTicks       timer ticks a task runs before equal-priority tasks get the CPU
 *   +8  int  balanceInterval  ticks between periodic balancing steps
 *   +12 int  affinitySlack    how much busier the previous CPU may be and still be chosen
 *   +16 long mailbox          IpiMailbox for reschedule IPIs (0: none, single CPU tests)
 *   +24 long trampoline       address of TASK_TRAMPOLINE (0: build no initial frames)
 *   +32 long runQueues        CPU c's RunQueue at runQueues + c * RunQueue.SIZE
 *   +40 long taskTable        TaskTable header
 * </pre>
 */
public final class Scheduler {
    private Scheduler() {
    }

    public static final int CPU_COUNT = 0;
    public static final int SLICE_TICKS = 4;
    public static final int BALANCE_INTERVAL = 8;
    public static final int AFFINITY_SLACK = 12;
    public static final int MAILBOX = 16;
    public static final int TRAMPOLINE = 24;
    public static final int RUN_QUEUES = 32;
    public static final int TASK_TABLE = 40;
    public static final int HEADER = 64;

    public static final int DEFAULT_SLICE_TICKS = 4;
    public static final int DEFAULT_BALANCE_INTERVAL = 16;
    public static final int DEFAULT_AFFINITY_SLACK = 1;

    /** Bytes of the scheduler block for this many CPUs and tasks (the idle tasks included). */
    public static long bytesFor(int cpuCount, int taskCapacity) {
        return HEADER + TaskTable.HEADER + (long) cpuCount * RunQueue.SIZE + (long) taskCapacity * Task.SIZE;
    }

    /**
     * Lays out the block at sched (64-byte aligned, bytesFor bytes) and makes the calling
     * context of each CPU its idle task, the one running at first. taskCapacity counts the
     * cpuCount idle tasks. mailbox may be 0 when no IPIs are to be sent.
     */
    public static void init(long sched, int cpuCount, int taskCapacity, long mailbox) {
        long table = sched + HEADER;
        long runQueues = table + TaskTable.HEADER;
        long slots = runQueues + (long) cpuCount * RunQueue.SIZE;
        Memory.store32(sched + CPU_COUNT, cpuCount);
        Memory.store64(sched + MAILBOX, mailbox);
        Memory.store64(sched + TRAMPOLINE, 0L);
        Memory.store64(sched + RUN_QUEUES, runQueues);
        Memory.store64(sched + TASK_TABLE, table);
        configure(sched, DEFAULT_SLICE_TICKS, DEFAULT_BALANCE_INTERVAL, DEFAULT_AFFINITY_SLACK);
        TaskTable.init(table, slots, taskCapacity);
        for (int cpu = 0; cpu < cpuCount; cpu++) {
            long idle = TaskTable.allocate(table);
            Memory.store32(idle + Task.FLAGS, Task.FLAG_IDLE);
            CpuMask.set(idle + Task.AFFINITY, cpu);
            Memory.store32(idle + Task.LAST_CPU, cpu);
            Memory.store64(idle + Task.SAVED_RSP, 0L);
            Memory.store32(idle + Task.ON_CPU, cpu + 1);
            Atomic.storeVolatile64(idle + Task.STATE, TaskState.word(0, TaskState.RUNNING));
            RunQueue.init(runQueue(sched, cpu), idle);
        }
    }

    public static void configure(long sched, int sliceTicks, int balanceInterval, int affinitySlack) {
        Memory.store32(sched + SLICE_TICKS, sliceTicks);
        Memory.store32(sched + BALANCE_INTERVAL, balanceInterval);
        Memory.store32(sched + AFFINITY_SLACK, affinitySlack);
    }

    /** New tasks get an initial frame returning into this trampoline (see TaskFrame). */
    public static void setTrampoline(long sched, long trampoline) {
        Memory.store64(sched + TRAMPOLINE, trampoline);
    }

    public static int cpuCount(long sched) {
        return Memory.load32(sched + CPU_COUNT);
    }

    public static int sliceTicks(long sched) {
        return Memory.load32(sched + SLICE_TICKS);
    }

    public static int affinitySlack(long sched) {
        return Memory.load32(sched + AFFINITY_SLACK);
    }

    public static long taskTable(long sched) {
        return Memory.load64(sched + TASK_TABLE);
    }

    public static long runQueue(long sched, int cpu) {
        return Memory.load64(sched + RUN_QUEUES) + (long) cpu * RunQueue.SIZE;
    }

    /** The task on the CPU (its idle task when nothing else runs). */
    public static long current(long sched, int cpu) {
        return RunQueue.current(runQueue(sched, cpu));
    }

    public static long idleTask(long sched, int cpu) {
        return RunQueue.idle(runQueue(sched, cpu));
    }

    public static boolean needResched(long sched, int cpu) {
        return RunQueue.needResched(runQueue(sched, cpu));
    }

    /**
     * Creates a kernel task that will call entry(argument) on the given kernel stack (whose
     * guard page is the page below stackBase), allowed on every CPU. It does not run until
     * start. Returns 0 when the task table is full, or when the priority is out of range.
     */
    public static long createTask(long sched, long entry, long argument, int priority, long stackBase, long stackSize) {
        if (priority < 0 || priority >= RunQueue.LEVELS) {
            return 0L;
        }
        long task = TaskTable.allocate(taskTable(sched));
        if (task == 0) {
            return 0L;
        }
        Memory.store32(task + Task.PRIORITY, priority);
        Memory.store64(task + Task.ENTRY, entry);
        Memory.store64(task + Task.ARGUMENT, argument);
        Memory.store64(task + Task.STACK_BASE, stackBase);
        Memory.store64(task + Task.STACK_SIZE, stackSize);
        Memory.store64(task + Task.GUARD_PAGE, stackBase == 0 ? 0L : stackBase - Task.PAGE_SIZE);
        Memory.store32(task + Task.SLICE_LEFT, sliceTicks(sched));
        CpuMask.setFirst(task + Task.AFFINITY, cpuCount(sched));
        long trampoline = Memory.load64(sched + TRAMPOLINE);
        if (stackBase != 0 && trampoline != 0) {
            Memory.store64(task + Task.SAVED_RSP,
                    TaskFrame.build(stackBase + stackSize, trampoline, entry, argument, task));
        }
        return task;
    }

    /** FXSAVE area: x87 control word at +0, MXCSR at +24 (Intel SDM Vol. 1 10.5.1, Table 10-2). */
    public static final int FXSAVE_FCW = 0;
    public static final int FXSAVE_MXCSR = 24;
    public static final int FXSAVE_SIZE = 512;
    /** The x87 control word after FNINIT: all exceptions masked, 64-bit precision, round to nearest. */
    public static final int INITIAL_FCW = 0x037F;
    /** MXCSR at power-up: all SIMD exceptions masked, round to nearest (Intel SDM Vol. 1 10.2.3). */
    public static final int INITIAL_MXCSR = 0x1F80;

    /**
     * Makes a created task a user task: the trampoline enters user mode at userEntry with
     * userStack in address space cr3; fpuArea is its 512-byte, 16-aligned FXSAVE area, which is
     * set to the state of a freshly initialised FPU so that its first FXRSTOR loads valid values.
     */
    public static void makeUser(long task, long cr3, long userEntry, long userStack, long fpuArea) {
        if (fpuArea != 0) {
            MemoryBlock.zero(fpuArea, FXSAVE_SIZE);
            Memory.store16(fpuArea + FXSAVE_FCW, (short) INITIAL_FCW);
            Memory.store32(fpuArea + FXSAVE_MXCSR, INITIAL_MXCSR);
        }
        Memory.store32(task + Task.FLAGS, Memory.load32(task + Task.FLAGS) | Task.FLAG_USER);
        Memory.store64(task + Task.CR3, cr3);
        Memory.store64(task + Task.ENTRY, userEntry);
        Memory.store64(task + Task.USER_STACK, userStack);
        Memory.store64(task + Task.FPU_AREA, fpuArea);
    }

    /**
     * Sets the CPUs a task may run on; false (and nothing changes) when the mask allows no CPU
     * of this machine. Takes effect at the task's next placement: a queued task is moved now, a
     * running one when it next leaves the CPU.
     */
    public static boolean setAffinity(long sched, int callerCpu, long task, long mask) {
        int cpuCount = cpuCount(sched);
        int first = CpuMask.next(mask, 0);
        if (first < 0 || first >= cpuCount) {
            return false;
        }
        CpuMask.copy(task + Task.AFFINITY, mask);
        int queuedOn = Atomic.loadVolatile32(task + Task.QUEUED_ON);
        if (queuedOn != 0 && !CpuMask.contains(mask, queuedOn - 1)) {
            long rq = runQueue(sched, queuedOn - 1);
            RunQueue.lock(rq);
            boolean stillThere = Memory.load32(task + Task.QUEUED_ON) == queuedOn;
            if (stillThere) {
                RunQueue.dequeue(rq, queuedOn - 1, task);
            }
            RunQueue.unlock(rq);
            if (stillThere) {
                place(sched, callerCpu, task);
            }
        }
        return true;
    }

    /** Changes a task's priority, re-queueing it at its new level if it is queued. */
    public static void setPriority(long sched, long task, int priority) {
        if (priority < 0 || priority >= RunQueue.LEVELS) {
            SchedPanic.badPriority(priority);
            return;
        }
        while (true) {
            int queuedOn = Atomic.loadVolatile32(task + Task.QUEUED_ON);
            if (queuedOn == 0) {
                Atomic.storeVolatile32(task + Task.PRIORITY, priority);
                if (Atomic.loadVolatile32(task + Task.QUEUED_ON) == 0) {
                    return;
                }
                queuedOn = Atomic.loadVolatile32(task + Task.QUEUED_ON);
            }
            long rq = runQueue(sched, queuedOn - 1);
            RunQueue.lock(rq);
            if (Memory.load32(task + Task.QUEUED_ON) == queuedOn) {
                RunQueue.dequeue(rq, queuedOn - 1, task);
                Atomic.storeVolatile32(task + Task.PRIORITY, priority);
                RunQueue.enqueue(rq, queuedOn - 1, task);
                RunQueue.unlock(rq);
                return;
            }
            RunQueue.unlock(rq);
        }
    }

    /** Makes a created task runnable on the CPU CpuSelect chooses. */
    public static void start(long sched, int callerCpu, long task) {
        Atomic.storeVolatile64(task + Task.STATE, TaskState.word(0, TaskState.WAKING));
        place(sched, callerCpu, task);
    }

    /**
     * The running task blocks: its state becomes BLOCKED with a new sequence, which is returned
     * (wake-ups must name it). Only the task itself calls this, and only while RUNNING.
     */
    public static int block(long task) {
        int sequence = TaskState.sequence(Task.stateWord(task)) + 1;
        Atomic.storeVolatile64(task + Task.STATE, TaskState.word(sequence, TaskState.BLOCKED));
        return sequence;
    }

    /** The running task cancels its block; false when a waker got there first. */
    public static boolean cancelBlock(long task, int sequence) {
        return Atomic.compareAndSet64(task + Task.STATE, TaskState.word(sequence, TaskState.BLOCKED),
                TaskState.word(sequence, TaskState.RUNNING));
    }

    /**
     * Wakes the task if it is still in the sleep with this block sequence, recording why;
     * places it on a CPU and returns true. False when it is not (already woken, running, or in a
     * later sleep): exactly one of several racing wakers succeeds.
     */
    public static boolean wake(long sched, int wakerCpu, long task, int sequence, int reason) {
        if (!Atomic.compareAndSet64(task + Task.STATE, TaskState.word(sequence, TaskState.BLOCKED),
                TaskState.word(sequence, TaskState.WAKING))) {
            return false;
        }
        Atomic.storeVolatile32(task + Task.WAKE_REASON, reason);
        place(sched, wakerCpu, task);
        return true;
    }

    /** Places a task that belongs to the caller alone (WAKING, or RUNNABLE and on no queue). */
    public static void place(long sched, int callerCpu, long task) {
        placeOn(sched, callerCpu, CpuSelect.select(sched, task), task);
    }

    /**
     * Enqueues the task on the target CPU, counting a migration when it last ran elsewhere, and
     * asks the target to reschedule when it idles or runs a lower priority; a target other than
     * the caller gets a reschedule IPI for that.
     */
    public static void placeOn(long sched, int callerCpu, int target, long task) {
        long rq = runQueue(sched, target);
        RunQueue.lock(rq);
        int last = Memory.load32(task + Task.LAST_CPU);
        if (last >= 0 && last != target) {
            Memory.store64(task + Task.MIGRATIONS, Memory.load64(task + Task.MIGRATIONS) + 1);
            CpuStats.add(rq, CpuStats.MIGRATIONS_IN, 1);
        }
        Atomic.storeVolatile32(task + Task.LAST_CPU, target);
        if (Memory.load32(task + Task.SLICE_LEFT) <= 0) {
            Memory.store32(task + Task.SLICE_LEFT, sliceTicks(sched));
        }
        int sequence = TaskState.sequence(Task.stateWord(task));
        Atomic.storeVolatile64(task + Task.STATE, TaskState.word(sequence, TaskState.RUNNABLE));
        RunQueue.enqueue(rq, target, task);
        long current = RunQueue.current(rq);
        boolean preempt = Task.isIdle(current) || Task.priority(task) > Task.priority(current);
        boolean alreadyAsked = RunQueue.needResched(rq);
        if (preempt) {
            RunQueue.setNeedResched(rq);
        }
        RunQueue.unlock(rq);
        long mailbox = Memory.load64(sched + MAILBOX);
        if (preempt && !alreadyAsked && target != callerCpu && mailbox != 0) {
            CpuStats.add(runQueue(sched, callerCpu), CpuStats.IPIS_SENT, 1);
            IpiMailbox.post(mailbox, target, IpiReason.RESCHEDULE);
        }
    }

    /**
     * The timer tick of a CPU, with the TSC read by the interrupt handler: fires expired sleep
     * timers, charges the running task, ends its slice or lets a higher priority preempt it,
     * and balances. Returns whether the CPU should call schedule before the interrupt returns.
     */
    public static boolean tick(long sched, int cpu, long now) {
        long rq = runQueue(sched, cpu);
        SleepTimers.expire(sched, cpu, now);
        RunQueue.lock(rq);
        CpuStats.add(rq, CpuStats.TICKS, 1);
        long current = RunQueue.current(rq);
        int top = RunQueue.highestLevel(rq);
        if (Task.isIdle(current)) {
            CpuStats.add(rq, CpuStats.IDLE_TSC, now - CpuStats.get(rq, CpuStats.SWITCHED_IN_TSC));
            CpuStats.set(rq, CpuStats.SWITCHED_IN_TSC, now);
            if (top >= 0) {
                RunQueue.setNeedResched(rq);
            }
        } else {
            charge(current, now);
            int priority = Task.priority(current);
            int sliceLeft = Memory.load32(current + Task.SLICE_LEFT) - 1;
            if (sliceLeft <= 0) {
                sliceLeft = sliceTicks(sched);
                if (top >= priority) {
                    RunQueue.setNeedResched(rq);
                }
            }
            Memory.store32(current + Task.SLICE_LEFT, sliceLeft);
            if (top > priority) {
                RunQueue.setNeedResched(rq);
            }
        }
        int sinceBalance = Memory.load32(rq + RunQueue.TICKS_SINCE_BALANCE) + 1;
        boolean balanceDue = sinceBalance >= Memory.load32(sched + BALANCE_INTERVAL);
        Memory.store32(rq + RunQueue.TICKS_SINCE_BALANCE, balanceDue ? 0 : sinceBalance);
        RunQueue.unlock(rq);
        if (!LoadBalance.pullIfIdle(sched, cpu) && balanceDue) {
            LoadBalance.periodic(sched, cpu);
        }
        return RunQueue.needResched(rq);
    }

    /** The mailbox IPI handler saw IpiReason.RESCHEDULE for this CPU. */
    public static void onRescheduleIpi(long sched, int cpu) {
        long rq = runQueue(sched, cpu);
        CpuStats.add(rq, CpuStats.IPIS_RECEIVED, 1);
        RunQueue.setNeedResched(rq);
    }

    /** For interrupt return paths: switches if this CPU was asked to. */
    public static void preemptIfNeeded(long sched) {
        int cpu = SchedArch.currentCpu();
        if (needResched(sched, cpu)) {
            schedule(sched, cpu, Cpu.rdtsc());
        }
    }

    /**
     * Gives the CPU to the best runnable task. The running task is re-queued (at the tail of
     * its level) if it is still RUNNING, i.e. preempted or yielding; a BLOCKED or EXITED one
     * stays off the queues, and a woken one (RUNNABLE or WAKING) is already a waker's business.
     * An empty queue first pulls work from the busiest CPU; with none, the idle task runs.
     * In the kernel this returns when the calling task is switched back in, possibly on another
     * CPU: callers must read SchedArch.currentCpu again afterwards.
     */
    public static void schedule(long sched, int cpu, long now) {
        long rq = runQueue(sched, cpu);
        RunQueue.lock(rq);
        Atomic.storeVolatile32(rq + RunQueue.NEED_RESCHED, 0);
        long prev = RunQueue.current(rq);
        boolean prevIdle = Task.isIdle(prev);
        boolean moveAway = false;
        if (!prevIdle && Task.state(prev) == TaskState.RUNNING) {
            int sequence = TaskState.sequence(Task.stateWord(prev));
            if (Task.allows(prev, cpu)) {
                Atomic.storeVolatile64(prev + Task.STATE, TaskState.word(sequence, TaskState.RUNNABLE));
                RunQueue.enqueue(rq, cpu, prev);
            } else {
                Atomic.storeVolatile64(prev + Task.STATE, TaskState.word(sequence, TaskState.WAKING));
                moveAway = true;
            }
        }
        if (RunQueue.count(rq) == 0) {
            RunQueue.unlock(rq);
            LoadBalance.pullIntoEmptyQueue(sched, cpu);
            RunQueue.lock(rq);
        }
        long next = RunQueue.pickNext(rq, cpu);
        if (next == 0) {
            next = RunQueue.idle(rq);
        }
        if (prevIdle) {
            CpuStats.add(rq, CpuStats.IDLE_TSC, now - CpuStats.get(rq, CpuStats.SWITCHED_IN_TSC));
        } else {
            charge(prev, now);
        }
        CpuStats.set(rq, CpuStats.SWITCHED_IN_TSC, now);
        if (next == prev) {
            int sequence = TaskState.sequence(Task.stateWord(prev));
            Atomic.storeVolatile64(prev + Task.STATE, TaskState.word(sequence, TaskState.RUNNING));
            RunQueue.unlock(rq);
            return;
        }
        Atomic.storeVolatile64(rq + RunQueue.CURRENT, next);
        Memory.store64(rq + RunQueue.PREVIOUS, prev);
        CpuStats.add(rq, CpuStats.CONTEXT_SWITCHES, 1);
        if (!Task.isIdle(next)) {
            CpuStats.add(rq, CpuStats.TASKS_RUN, 1);
        }
        Memory.store64(next + Task.STARTED_TSC, now);
        RunQueue.unlock(rq);
        if (moveAway) {
            place(sched, cpu, prev);
        }
        switchTo(prev, next, cpu);
        finishSwitch(sched, SchedArch.currentCpu());
    }

    /**
     * Waits until next has left its previous CPU, claims it and switches. Outside every lock,
     * because the CPU still on next's stack may need this CPU's run queue lock to get off it.
     */
    private static void switchTo(long prev, long next, int cpu) {
        while (Task.savedRsp(next) == 0) {
            Cpu.pause();
        }
        long nextRsp = Task.savedRsp(next);
        Atomic.storeVolatile64(next + Task.SAVED_RSP, 0L);
        int sequence = TaskState.sequence(Task.stateWord(next));
        Atomic.storeVolatile64(next + Task.STATE, TaskState.word(sequence, TaskState.RUNNING));
        Atomic.fetchAdd64(next + Task.SWITCHES, 1);
        Atomic.storeVolatile32(next + Task.ON_CPU, cpu + 1);
        if (Task.isUser(next)) {
            SchedArch.setKernelStack(Task.stackTop(next));
            SchedArch.loadAddressSpace(Memory.load64(next + Task.CR3));
        }
        SchedArch.contextSwitch(prev + Task.SAVED_RSP, nextRsp, Memory.load64(prev + Task.FPU_AREA),
                Memory.load64(next + Task.FPU_AREA));
    }

    /**
     * Runs on the task that has just been switched in (after CONTEXT_SWITCH returns, or first
     * thing in TASK_TRAMPOLINE): the previous task is now off this CPU.
     */
    public static void finishSwitch(long sched, int cpu) {
        long rq = runQueue(sched, cpu);
        long prev = Memory.load64(rq + RunQueue.PREVIOUS);
        if (prev != 0) {
            Atomic.compareAndSet32(prev + Task.ON_CPU, cpu + 1, 0);
        }
    }

    /** Adds the cycles since the task last got the CPU (or was last charged) to its run time. */
    private static void charge(long task, long now) {
        long started = Memory.load64(task + Task.STARTED_TSC);
        Atomic.fetchAdd64(task + Task.RUN_TSC, now - started);
        Memory.store64(task + Task.STARTED_TSC, now);
    }
}
