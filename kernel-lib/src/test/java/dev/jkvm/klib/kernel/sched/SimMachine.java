package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.smp.IpiMailbox;
import dev.jkvm.klib.kernel.smp.IpiReason;
import dev.jkvm.klib.kernel.smp.IpiSend;
import dev.jkvm.klib.kernel.sync.SyncPanic;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.HostArena;
import dev.jkvm.klib.rt.Memory;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A machine of simulated CPUs around the scheduler, for host tests. The architecture routines
 * are host stand-ins: the context switch does not switch stacks, it checks that no task is on
 * two CPUs at once and that the CPU is in the task's affinity, records the switch and stores a
 * token as the saved RSP; the IPI sender latches one pending interrupt per CPU (as a local APIC
 * IRR bit), delivered at the CPU's next step. A task's code is a Body, called once per timer
 * tick while the task is the CPU's current task; the blocking operations below are the
 * scheduler's one-step halves, and the machine runs the resume half when the task next runs.
 *
 * The same machine serves a deterministic single-thread run (round() ticks every CPU in turn)
 * and real host threads as CPUs (each thread calls step(cpu) for its own CPU).
 */
final class SimMachine implements AutoCloseable {
    static final long TICK_TSC = 1_000;
    static final int VECTOR = 0xF2;
    private static final long SWITCHED_OUT = 0x5AFE_0000L;
    private static final ThreadLocal<Integer> RUNNING_CPU = ThreadLocal.withInitial(() -> -1);

    @FunctionalInterface
    interface Body {
        void step(SimMachine machine, int cpu, long task);
    }

    @FunctionalInterface
    private interface Resume {
        int resume(int cpu);
    }

    final int cpuCount;
    final Arena arena = HostArena.ofShared();
    final long sched;
    final long mailbox;
    final AtomicLong clock = new AtomicLong(TICK_TSC);
    final Queue<String> violations = new ConcurrentLinkedQueue<>();
    final Queue<long[]> switches = new ConcurrentLinkedQueue<>();
    final Queue<int[]> ipis = new ConcurrentLinkedQueue<>();
    final Map<Long, AtomicLong> ranTicks = new ConcurrentHashMap<>();
    final Map<Long, Integer> outcomes = new ConcurrentHashMap<>();
    private final Map<Long, Body> bodies = new ConcurrentHashMap<>();
    private final Map<Long, Resume> pendingWaits = new ConcurrentHashMap<>();
    private final Map<Long, Integer> onCpu = new ConcurrentHashMap<>();
    private final AtomicBoolean[] irr;
    private final boolean logSwitches;
    volatile boolean widenRaces;

    SimMachine(int cpuCount, int taskCapacity, boolean logSwitches) {
        this.cpuCount = cpuCount;
        this.logSwitches = logSwitches;
        sched = arena.allocate(Scheduler.bytesFor(cpuCount, taskCapacity), 64).address();
        mailbox = arena.allocate(IpiMailbox.bytesFor(cpuCount), 64).address();
        IpiMailbox.init(mailbox, cpuCount, VECTOR);
        Scheduler.init(sched, cpuCount, taskCapacity, mailbox);
        irr = new AtomicBoolean[cpuCount];
        for (int cpu = 0; cpu < cpuCount; cpu++) {
            irr[cpu] = new AtomicBoolean();
            onCpu.put(Scheduler.idleTask(sched, cpu), cpu);
        }
        Asm.hostDefine(SchedArch.CONTEXT_SWITCH, args -> contextSwitch(args[0]));
        Asm.hostDefine(SchedArch.CURRENT_CPU, args -> runningCpu());
        Asm.hostDefine(SchedArch.SET_KERNEL_STACK, args -> 0);
        Asm.hostDefine(SchedArch.LOAD_ADDRESS_SPACE, args -> 0);
        Asm.hostDefine(IpiSend.SYMBOL, args -> {
            int target = (int) args[0];
            ipis.add(new int[] {runningCpu(), target});
            if (args[1] < VECTOR || args[1] >= VECTOR + IpiReason.KINDS || target < 0 || target >= cpuCount) {
                violations.add("IPI to cpu " + target + " vector " + args[1]);
            } else {
                irr[target].set(true);
            }
            return 0;
        });
        Asm.hostDefine(SyncPanic.SYMBOL, args -> {
            throw new AssertionError("kernel panic: " + Console.hostOutput());
        });
    }

    private long contextSwitch(long prevSavedRspAddress) {
        int cpu = runningCpu();
        long prev = prevSavedRspAddress - Task.SAVED_RSP;
        long next = Scheduler.current(sched, cpu);
        if (!onCpu.remove(prev, cpu)) {
            violations.add("switch away from task " + Long.toHexString(prev) + " not on cpu " + cpu);
        }
        Integer other = onCpu.putIfAbsent(next, cpu);
        if (other != null) {
            violations.add("task " + Task.id(next) + " switched in on cpu " + cpu + " while on cpu " + other);
        }
        if (!Task.allows(next, cpu)) {
            violations.add("task " + Task.id(next) + " runs on cpu " + cpu + " outside its affinity");
        }
        if (logSwitches) {
            switches.add(new long[] {cpu, next});
        }
        Atomic.storeVolatile64(prevSavedRspAddress, SWITCHED_OUT);
        return 0;
    }

    static int runningCpu() {
        return RUNNING_CPU.get();
    }

    long now() {
        return clock.get();
    }

    long runQueue(int cpu) {
        return Scheduler.runQueue(sched, cpu);
    }

    long create(int priority, Body body) {
        long task = Scheduler.createTask(sched, 0L, 0L, priority, 0L, 0L);
        if (task != 0) {
            bodies.put(task, body);
            ranTicks.put(task, new AtomicLong());
        }
        return task;
    }

    long spawn(int callerCpu, int priority, Body body) {
        long task = create(priority, body);
        if (task != 0) {
            start(callerCpu, task);
        }
        return task;
    }

    void start(int callerCpu, long task) {
        withCpu(callerCpu, () -> Scheduler.start(sched, callerCpu, task));
    }

    private void withCpu(int cpu, Runnable action) {
        int saved = RUNNING_CPU.get();
        RUNNING_CPU.set(cpu);
        try {
            action.run();
        } finally {
            RUNNING_CPU.set(saved);
        }
    }

    /** Ticks every CPU once, in order, after advancing the clock by one tick. */
    void round() {
        clock.addAndGet(TICK_TSC);
        for (int cpu = 0; cpu < cpuCount; cpu++) {
            step(cpu, true);
        }
    }

    void rounds(int count) {
        for (int i = 0; i < count; i++) {
            round();
        }
    }

    /**
     * One timer period of a CPU: the pending IPI, the tick (and the switch it asks for), then
     * the current task's code for the rest of the period.
     */
    void step(int cpu, boolean timerTick) {
        RUNNING_CPU.set(cpu);
        try {
            if (irr[cpu].getAndSet(false)) {
                int reasons = IpiMailbox.takeReasons(mailbox, cpu, IpiReason.ALL);
                if ((reasons & IpiReason.RESCHEDULE) != 0) {
                    Scheduler.onRescheduleIpi(sched, cpu);
                }
            }
            if (timerTick && Scheduler.tick(sched, cpu, now())) {
                schedule(cpu);
            } else if (Scheduler.needResched(sched, cpu)) {
                schedule(cpu);
            }
            long task = Scheduler.current(sched, cpu);
            if (Task.isIdle(task)) {
                return;
            }
            ranTicks.get(task).incrementAndGet();
            Resume pending = pendingWaits.remove(task);
            if (pending != null) {
                int outcome = pending.resume(cpu);
                if (outcome == WaitOutcome.BLOCKED) {
                    pendingWaits.put(task, pending);
                    schedule(cpu);
                    return;
                }
                if (outcome == WaitOutcome.DONE_AFTER_SCHEDULE) {
                    pendingWaits.put(task, c -> WaitOutcome.DONE);
                    schedule(cpu);
                    return;
                }
                outcomes.put(task, outcome);
            }
            bodies.get(task).step(this, cpu, task);
            if (Scheduler.current(sched, cpu) == task && Scheduler.needResched(sched, cpu)) {
                schedule(cpu);
            }
        } finally {
            RUNNING_CPU.set(-1);
        }
    }

    /**
     * With racing widened, a blocked task lingers on its CPU before switching away, as kernel
     * code between prepareToWait and schedule would: wake-ups that reach it there, and other CPUs
     * that pick it before it has left, become frequent instead of rare.
     */
    private void lingerBeforeSwitch() {
        if (widenRaces) {
            int spins = java.util.concurrent.ThreadLocalRandom.current().nextInt(400);
            for (int i = 0; i < spins; i++) {
                Thread.onSpinWait();
            }
        }
    }

    /** schedule() called by the host thread acting as that CPU. */
    void scheduleAs(int cpu) {
        withCpu(cpu, () -> schedule(cpu));
    }

    void schedule(int cpu) {
        Scheduler.schedule(sched, cpu, now());
    }

    /** The outcome of the task's last completed wait (WaitOutcome), or -1; forgets it. */
    int takeOutcome(long task) {
        Integer outcome = outcomes.remove(task);
        return outcome == null ? -1 : outcome;
    }

    // Blocking operations for bodies: true when done at once; false when the task left the CPU.

    void exit(int cpu, long task, long value) {
        withCpu(cpu, () -> {
            TaskExit.exit(sched, cpu, task, value);
            schedule(cpu);
        });
    }

    void yield(int cpu) {
        schedule(cpu);
    }

    void sleepUntil(int cpu, long task, long deadline) {
        Sleep.blockUntil(sched, cpu, task, deadline);
        pendingWaits.put(task, c -> {
            SleepTimers.disarm(sched, task);
            return Task.wakeReason(task) == Task.TIMED_OUT ? WaitOutcome.TIMED_OUT : WaitOutcome.DONE;
        });
        schedule(cpu);
    }

    boolean down(int cpu, long task, long semaphore, long deadline) {
        int outcome = BlockingSemaphore.downOrBlock(sched, cpu, semaphore, task, deadline);
        return settle(cpu, task, outcome, c -> BlockingSemaphore.resumeDown(sched, c, semaphore, task, deadline));
    }

    void up(int cpu, long semaphore) {
        withCpu(cpu, () -> BlockingSemaphore.up(sched, cpu, semaphore));
    }

    boolean join(int cpu, long joiner, long target) {
        int outcome = TaskExit.joinOrBlock(sched, joiner, target);
        return settle(cpu, joiner, outcome, c -> TaskExit.resumeJoin(sched, joiner, target));
    }

    private boolean settle(int cpu, long task, int outcome, Resume resume) {
        if (outcome == WaitOutcome.DONE) {
            return true;
        }
        if (outcome == WaitOutcome.BLOCKED) {
            pendingWaits.put(task, resume);
        } else {
            pendingWaits.put(task, c -> WaitOutcome.DONE);
        }
        lingerBeforeSwitch();
        schedule(cpu);
        return false;
    }

    /** A CpuMask in the machine's memory with exactly these CPUs set (for affinities). */
    long mask(int... cpus) {
        long mask = arena.allocate(CpuMask.SIZE, 8).address();
        CpuMask.clearAll(mask);
        for (int cpu : cpus) {
            CpuMask.set(mask, cpu);
        }
        return mask;
    }

    long newSemaphore(int count) {
        long semaphore = arena.allocate(BlockingSemaphore.SIZE, 64).address();
        BlockingSemaphore.init(semaphore, count);
        return semaphore;
    }

    /**
     * Checks the run queues against the task table: every queued task sits on exactly one
     * queue, at its priority's level, on a CPU its affinity allows, with the queue's count and
     * bitmap agreeing; every RUNNABLE task is queued or some CPU's current; no task is current
     * on two CPUs. Returns the problems found (empty when consistent). Call it while no CPU runs.
     */
    List<String> queueProblems() {
        List<String> problems = new ArrayList<>();
        Map<Long, Integer> seen = new ConcurrentHashMap<>();
        for (int cpu = 0; cpu < cpuCount; cpu++) {
            long rq = runQueue(cpu);
            int counted = 0;
            int bitmap = Memory.load32(rq + RunQueue.LEVEL_BITMAP);
            for (int level = 0; level < RunQueue.LEVELS; level++) {
                long head = Memory.load64(rq + RunQueue.HEADS + level * 8L);
                if ((head != 0) != ((bitmap & (1 << level)) != 0)) {
                    problems.add("cpu " + cpu + " bitmap disagrees at level " + level);
                }
                for (long t = head; t != 0; t = Memory.load64(t + Task.QUEUE_NEXT)) {
                    counted++;
                    if (seen.put(t, cpu) != null) {
                        problems.add("task " + Task.id(t) + " queued twice");
                        return problems;
                    }
                    if (Task.priority(t) != level || Memory.load32(t + Task.QUEUED_ON) != cpu + 1
                            || !Task.allows(t, cpu) || Task.state(t) != TaskState.RUNNABLE) {
                        problems.add("task " + Task.id(t) + " badly queued on cpu " + cpu);
                    }
                }
            }
            if (counted != RunQueue.count(rq)) {
                problems.add("cpu " + cpu + " count " + RunQueue.count(rq) + " but " + counted + " queued");
            }
            long current = Scheduler.current(sched, cpu);
            if (seen.put(current, cpu) != null) {
                problems.add("task " + Task.id(current) + " current and queued or current twice");
            }
        }
        long table = Scheduler.taskTable(sched);
        for (int slot = 0; slot < TaskTable.capacity(table); slot++) {
            long t = TaskTable.slot(table, slot);
            int state = Task.state(t);
            boolean placed = seen.containsKey(t);
            if ((state == TaskState.RUNNABLE || state == TaskState.RUNNING) != placed && !Task.isIdle(t)) {
                problems.add("task " + Task.id(t) + " in state " + state + (placed ? " is placed" : " is lost"));
            }
        }
        return problems;
    }

    @Override
    public void close() {
        arena.close();
    }
}
