package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Memory;

/**
 * One task (kernel thread or user process thread) as a C-style record in the task table. A
 * task is named by the address of its record; its ID is for humans and for handles that must
 * not outlive it: (slot generation << 32) | slot, and a slot's generation grows at every reuse,
 * so no ID repeats within a boot.
 *
 * Layout (SIZE bytes, 64-byte aligned):
 * <pre>
 *   +0   long id
 *   +8   long state          TaskState word: (block sequence << 32) | state
 *   +16  int  priority       0 (lowest) .. RunQueue.LEVELS-1 (highest)
 *   +20  int  lastCpu        CPU it last ran or was queued on, -1 before the first placement
 *   +24  int  queuedOn       CPU + 1 of the run queue holding it, 0 when on none
 *   +28  int  flags          FLAG_*
 *   +32  long queueNext      run queue FIFO links (task addresses, 0 ends)
 *   +40  long queuePrev
 *   +48  long waitNext       wait queue FIFO links
 *   +56  long waitPrev
 *   +64  long waitQueue      the wait queue it is linked on, 0 when on none
 *   +72  long runTsc         TSC cycles spent running
 *   +80  long switches       times it was switched in
 *   +88  long migrations     placements on a CPU other than lastCpu
 *   +96  long startedTsc     TSC when it last got the CPU (or its run time was last charged)
 *   +104 int  sliceLeft      timer ticks left in its time slice
 *   +108 int  wakeReason     WOKEN or TIMED_OUT: why the last sleep ended
 *   +112 long stackBase      lowest address of the kernel stack (the kernel's allocator owns it)
 *   +120 long stackSize
 *   +128 long guardPage      the unmapped page right below stackBase, catching overflow
 *   +136 long savedRsp       kernel RSP while switched out; 0 while it is on a CPU (SchedArch)
 *   +144 long cr3            address space root for user tasks, 0 for kernel tasks
 *   +152 long userStack      initial user RSP
 *   +160 long entry          kernel: the function the trampoline calls; user: the user RIP
 *   +168 long argument       passed to a kernel entry function
 *   +176 long exitValue
 *   +184 long timerDeadline  TSC at which a timed sleep ends
 *   +192 long timerNext      per-CPU sleep timer list link
 *   +200 int  timerCpu       CPU + 1 of the timer list holding it, 0 when on none
 *   +204 int  timerSequence  block sequence of the sleep the timer belongs to
 *   +208 long fpuArea        512-byte FXSAVE area (16-aligned) for user tasks, 0 for kernel tasks
 *   +216 int  generation     reuses of the slot
 *   +220 int  slot
 *   +224 long freeNext       task table free list link
 *   +232 int  onCpu          CPU + 1 while switched in (for checks and reports), 0 otherwise
 *   +236 int  reserved
 *   +240 long reserved
 *   +256 WaitQueue joiners   (WaitQueue.SIZE bytes) tasks waiting for its exit
 *   +320 CpuMask affinity    (CpuMask.SIZE bytes) CPUs it may run on
 * </pre>
 */
public final class Task {
    private Task() {
    }

    public static final int ID = 0;
    public static final int STATE = 8;
    public static final int PRIORITY = 16;
    public static final int LAST_CPU = 20;
    public static final int QUEUED_ON = 24;
    public static final int FLAGS = 28;
    public static final int QUEUE_NEXT = 32;
    public static final int QUEUE_PREV = 40;
    public static final int WAIT_NEXT = 48;
    public static final int WAIT_PREV = 56;
    public static final int WAIT_QUEUE = 64;
    public static final int RUN_TSC = 72;
    public static final int SWITCHES = 80;
    public static final int MIGRATIONS = 88;
    public static final int STARTED_TSC = 96;
    public static final int SLICE_LEFT = 104;
    public static final int WAKE_REASON = 108;
    public static final int STACK_BASE = 112;
    public static final int STACK_SIZE = 120;
    public static final int GUARD_PAGE = 128;
    public static final int SAVED_RSP = 136;
    public static final int CR3 = 144;
    public static final int USER_STACK = 152;
    public static final int ENTRY = 160;
    public static final int ARGUMENT = 168;
    public static final int EXIT_VALUE = 176;
    public static final int TIMER_DEADLINE = 184;
    public static final int TIMER_NEXT = 192;
    public static final int TIMER_CPU = 200;
    public static final int TIMER_SEQUENCE = 204;
    public static final int FPU_AREA = 208;
    public static final int GENERATION = 216;
    public static final int SLOT = 220;
    public static final int FREE_NEXT = 224;
    public static final int ON_CPU = 232;
    public static final int JOINERS = 256;
    public static final int AFFINITY = 320;
    public static final int SIZE = AFFINITY + CpuMask.SIZE;

    /** Runs in user mode (entered through SchedArch.enterUser). */
    public static final int FLAG_USER = 1;
    /** A CPU's idle task: never queued, chosen only when the run queue is empty. */
    public static final int FLAG_IDLE = 2;

    /** wakeReason: woken by a waker (wait queue, semaphore, join). */
    public static final int WOKEN = 1;
    /** wakeReason: woken because its sleep timer expired. */
    public static final int TIMED_OUT = 2;

    public static final long PAGE_SIZE = 4096;

    public static long id(long task) {
        return Memory.load64(task + ID);
    }

    public static long stateWord(long task) {
        return Atomic.loadVolatile64(task + STATE);
    }

    public static int state(long task) {
        return TaskState.of(stateWord(task));
    }

    public static int priority(long task) {
        return Atomic.loadVolatile32(task + PRIORITY);
    }

    public static int lastCpu(long task) {
        return Atomic.loadVolatile32(task + LAST_CPU);
    }

    public static boolean isIdle(long task) {
        return (Memory.load32(task + FLAGS) & FLAG_IDLE) != 0;
    }

    public static boolean isUser(long task) {
        return (Memory.load32(task + FLAGS) & FLAG_USER) != 0;
    }

    public static long affinity(long task) {
        return task + AFFINITY;
    }

    public static boolean allows(long task, int cpu) {
        return CpuMask.contains(task + AFFINITY, cpu);
    }

    public static long joiners(long task) {
        return task + JOINERS;
    }

    public static long runTsc(long task) {
        return Atomic.loadVolatile64(task + RUN_TSC);
    }

    public static long switches(long task) {
        return Atomic.loadVolatile64(task + SWITCHES);
    }

    public static long migrations(long task) {
        return Atomic.loadVolatile64(task + MIGRATIONS);
    }

    public static long exitValue(long task) {
        return Atomic.loadVolatile64(task + EXIT_VALUE);
    }

    public static int wakeReason(long task) {
        return Atomic.loadVolatile32(task + WAKE_REASON);
    }

    public static long savedRsp(long task) {
        return Atomic.loadVolatile64(task + SAVED_RSP);
    }

    /** Kernel stack top: where the initial frame is built and TSS.RSP0 points for user tasks. */
    public static long stackTop(long task) {
        return Memory.load64(task + STACK_BASE) + Memory.load64(task + STACK_SIZE);
    }

    /** CPU + 1 it runs on, 0 when switched out (a snapshot). */
    public static int onCpu(long task) {
        return Atomic.loadVolatile32(task + ON_CPU);
    }
}
