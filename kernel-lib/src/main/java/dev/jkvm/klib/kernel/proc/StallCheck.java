package dev.jkvm.klib.kernel.proc;

import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.sched.CpuStats;
import dev.jkvm.klib.kernel.sched.RunQueue;
import dev.jkvm.klib.kernel.sched.Scheduler;
import dev.jkvm.klib.kernel.sched.Task;
import dev.jkvm.klib.kernel.sched.TaskState;
import dev.jkvm.klib.kernel.sched.TaskTable;
import dev.jkvm.klib.kernel.smp.IpiMailbox;
import dev.jkvm.klib.kernel.smp.IpiReason;
import dev.jkvm.klib.kernel.smp.IpiSend;
import dev.jkvm.klib.kernel.smp.SmpState;
import dev.jkvm.klib.kernel.trap.ExitCodes;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;

/**
 * Lost wake-ups made visible: a CPU that runs its idle task with tasks in its own queue, and has
 * not switched for STALL_MS, has missed the reschedule that queueing them asked for, or has been
 * unable to take it (interrupts off all that time, as in a lock convoy: sched.LoadBalance). Its idle
 * loop schedules whenever its queue is non-empty, so this never lasts beyond one interrupt on a
 * working kernel; a lost reschedule IPI on a CPU whose tick is stopped (IdleTick) lasts forever,
 * and without this check a run that lost one hung silently until something killed it (issue 14:
 * one such hang in about 400 boots under QEMU TCG at 153 CPUs, whose log ended mid-workload).
 *
 * The boot CPU, the housekeeping CPU whose tick never stops entirely (IdleTick), checks every
 * CPU about once a second. A stalled CPU gets one line naming what its wake-up state was (need
 * resched flag, RESCHEDULE pending in its mailbox, tick stopped), then a reschedule IPI sent
 * even if the mailbox says one is pending, so that the run goes on to its end; the run then
 * fails (MainTask asks passed()).
 *
 * The same look catches the other way a run can hang for good: every CPU idle with an empty queue
 * and no sleep timer armed, no context switch anywhere for STALL_MS, and tasks still BLOCKED.
 * Nothing can wake them then (every wake-up in this kernel comes from a running task, a timer or
 * an IPI one of those sent), so the blocked tasks are listed and the run ends with FAIL at once.
 */
public final class StallCheck {
    private StallCheck() {
    }

    /** How long a CPU may idle over its own queued tasks before it counts as stalled. */
    public static final long STALL_MS = 5000;
    /** The gap between two looks at every CPU. */
    private static final long CHECK_INTERVAL_MS = 1000;

    /** Per CPU: +0 long TSC when first seen idle over queued tasks (0: not), +8 long its context switches then. */
    private static final int RECORD = 16;
    private static long records;
    private static int cpuCount;
    private static long lastCheck;
    private static int stalls;
    /** TSC since when every CPU was seen quiet (idle, nothing queued, no timer), 0: not; the switch total then. */
    private static long quietSince;
    private static long quietSwitches;
    /** Blocked tasks listed by name in a deadlock report; the rest are counted. */
    private static final int LISTED = 8;

    public static void init(int cpus) {
        cpuCount = cpus;
        records = BootAllocator.allocate(cpus * (long) RECORD, 8);
        for (int cpu = 0; cpu < cpus; cpu++) {
            Memory.store64(records + cpu * (long) RECORD, 0L);
            Memory.store64(records + cpu * (long) RECORD + 8, 0L);
        }
    }

    /** At each tick of the housekeeping CPU (interrupts off): looks at every CPU once a second. */
    public static void atHousekeepingTick(long sched, long now, long tscPerMs) {
        if (records == 0 || now - lastCheck < CHECK_INTERVAL_MS * tscPerMs) {
            return;
        }
        lastCheck = now;
        boolean quiet = true;
        long switchTotal = 0;
        for (int cpu = 0; cpu < cpuCount; cpu++) {
            long rq = Scheduler.runQueue(sched, cpu);
            long record = records + cpu * (long) RECORD;
            int queued = RunQueue.count(rq);
            boolean idle = Task.isIdle(RunQueue.current(rq));
            long switches = CpuStats.get(rq, CpuStats.CONTEXT_SWITCHES);
            switchTotal += switches;
            quiet &= idle && queued == 0 && Memory.load64(rq + RunQueue.TIMER_HEAD) == 0;
            if (queued == 0 || !idle) {
                Memory.store64(record, 0L);
                continue;
            }
            long since = Memory.load64(record);
            if (since == 0 || Memory.load64(record + 8) != switches) {
                Memory.store64(record, now);
                Memory.store64(record + 8, switches);
            } else if (now - since >= STALL_MS * tscPerMs) {
                report(sched, cpu, queued, (now - since) / tscPerMs);
                Memory.store64(record, 0L);
            }
        }
        if (!quiet) {
            quietSince = 0;
        } else if (quietSince == 0 || switchTotal != quietSwitches) {
            quietSince = now;
            quietSwitches = switchTotal;
        } else if (now - quietSince >= STALL_MS * tscPerMs) {
            deadlock(sched, (now - quietSince) / tscPerMs);
        }
    }

    /** Every CPU quiet for ms: lists the blocked tasks, if any, and ends the run. */
    private static void deadlock(long sched, long ms) {
        long table = Scheduler.taskTable(sched);
        int blocked = 0;
        for (int slot = 0; slot < TaskTable.capacity(table); slot++) {
            if (Task.state(TaskTable.slot(table, slot)) == TaskState.BLOCKED) {
                blocked++;
            }
        }
        if (blocked == 0) {
            return;
        }
        Console.print("sched: deadlock: every cpu idle for ");
        Log.dec(ms);
        Console.print(" ms with nothing queued and no sleep timer armed, and ");
        Log.dec(blocked);
        Console.print(" tasks blocked, which nothing can wake:");
        int listed = 0;
        for (int slot = 0; slot < TaskTable.capacity(table) && listed < LISTED; slot++) {
            long task = TaskTable.slot(table, slot);
            if (Task.state(task) == TaskState.BLOCKED) {
                Console.print(" task ");
                Log.hex(Memory.load64(task + Task.ID));
                Console.print(" (wait queue ");
                Log.hex(Memory.load64(task + Task.WAIT_QUEUE));
                Console.print(")");
                listed++;
            }
        }
        if (blocked > listed) {
            Console.print(" ...");
        }
        Console.print("\nresult: FAIL\n");
        ExitCodes.exit(ExitCodes.SELF_TEST_FAILED);
    }

    private static void report(long sched, int cpu, int queued, long ms) {
        stalls++;
        long mailbox = SmpState.mailbox();
        Console.print("sched: stall: cpu ");
        Log.dec(cpu);
        Console.print(" idle for ");
        Log.dec(ms);
        Console.print(" ms with ");
        Log.dec(queued);
        Console.print(" tasks queued (need-resched ");
        Log.dec(Scheduler.needResched(sched, cpu) ? 1 : 0);
        Console.print(", reschedule ipi pending ");
        Log.dec((IpiMailbox.pending(mailbox, cpu) & IpiReason.RESCHEDULE) != 0 ? 1 : 0);
        Console.print(", tick stopped ");
        Log.dec(IdleTick.isStopped(cpu) ? 1 : 0);
        Console.print(", its run queue lock held or awaited by ");
        Log.dec(RunQueue.lockQueueLength(Scheduler.runQueue(sched, cpu)));
        int longest = 0;
        for (int other = 1; other < cpuCount; other++) {
            if (RunQueue.lockQueueLength(Scheduler.runQueue(sched, other))
                    > RunQueue.lockQueueLength(Scheduler.runQueue(sched, longest))) {
                longest = other;
            }
        }
        Console.print(", longest run queue lock line ");
        Log.dec(RunQueue.lockQueueLength(Scheduler.runQueue(sched, longest)));
        Console.print(" on cpu ");
        Log.dec(longest);
        Console.print("): a lost wake-up or a cpu stuck with interrupts off; sending it a reschedule ipi\n");
        IpiMailbox.post(mailbox, cpu, IpiReason.RESCHEDULE);
        IpiSend.send(cpu, IpiMailbox.vectorOf(mailbox, IpiReason.RESCHEDULE));
    }

    /** False, with one line, when any CPU stalled during the run. */
    public static boolean passed() {
        if (stalls == 0) {
            return true;
        }
        Console.print("sched: ");
        Log.dec(stalls);
        Console.print(" stalls (cpus idle over queued tasks) during the run: FAIL\n");
        return false;
    }
}
