package dev.jkvm.klib.kernel.proc;

import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.sched.RunQueue;
import dev.jkvm.klib.kernel.sched.Scheduler;
import dev.jkvm.klib.kernel.sched.SleepTimers;
import dev.jkvm.klib.kernel.sched.Task;
import dev.jkvm.klib.kernel.smp.IpiMailbox;
import dev.jkvm.klib.kernel.smp.IpiReason;
import dev.jkvm.klib.kernel.smp.SmpState;

/**
 * Tickless idle (Linux's NO_HZ_IDLE in miniature): a CPU whose tick finds it idle, with an empty
 * queue, no switch pending and no sleep timer, stops its periodic timer (an initial count of 0
 * stops the local APIC timer in periodic mode too, Intel SDM Vol. 3A 11.5.4) and halts until an
 * interrupt; the next mailbox interrupt restarts it. Without this every idle CPU took 100 ticks
 * a second, each scanning every run queue for work to pull (LoadBalance): with 128 or more vCPUs
 * on the nested KVM, whose ring 0 runs at about 1 MIPS, the idle ticks alone wanted more than the
 * host's 2 cores, and the boot stalled for minutes as the scheduler started (issue 14: 128 vCPUs
 * 51 s from the scheduler's start to the first task, 255 and 256 more than 12 min).
 *
 * A stopped CPU no longer pulls work at its own ticks, so a busy CPU whose tick finds tasks
 * waiting in its queue kicks one stopped CPU with a RESCHEDULE request (Linux's nohz balancer
 * kick): its idle loop then schedules, finds its queue empty and pulls (LoadBalance). No
 * request can be lost: a CPU marks itself stopped inside its timer interrupt, with interrupts
 * off, so a RESCHEDULE posted to it meanwhile is taken after the mark, and restarts the timer.
 *
 * The boot CPU is the housekeeping CPU (as Linux keeps one CPU ticking under nohz_full): idle,
 * its tick slows to one every HOUSEKEEPING_PERIOD_MS instead of stopping, so that StallCheck
 * still runs when every CPU idles, which is exactly what a lost wake-up looks like.
 */
public final class IdleTick {
    private IdleTick() {
    }

    /** The CPU whose idle tick slows down instead of stopping. */
    public static final int HOUSEKEEPING_CPU = 0;
    public static final int HOUSEKEEPING_PERIOD_MS = 1000;

    /** CpuMask of the CPUs whose timer is stopped (the housekeeping CPU's: slowed). */
    private static long stopped;
    /** The housekeeping CPU's slow period in LAPIC timer counts (an unsigned 32-bit count). */
    private static int slowCount;

    public static void init(int lapicTicksPerTick, int tickMs) {
        stopped = BootAllocator.allocate(CpuMask.SIZE, 64);
        CpuMask.clearAll(stopped);
        long slow = (long) lapicTicksPerTick * (HOUSEKEEPING_PERIOD_MS / tickMs);
        slowCount = (int) (slow > 0xFFFFFFFFL ? 0xFFFFFFFFL : slow);
    }

    public static boolean isStopped(int cpu) {
        return CpuMask.contains(stopped, cpu);
    }

    /**
     * After Scheduler.tick on cpu (interrupts off): stops (on the housekeeping CPU: slows) the
     * timer of an idle CPU with nothing to do, or kicks a stopped CPU when this one has tasks
     * waiting.
     */
    public static void afterTick(long sched, int cpu, boolean switchPending) {
        long rq = Scheduler.runQueue(sched, cpu);
        int queued = RunQueue.count(rq);
        if (!Task.isIdle(RunQueue.current(rq))) {
            if (queued != 0) {
                kickOne(cpu);
            }
            return;
        }
        if (switchPending || queued != 0 || Scheduler.needResched(sched, cpu)
                || SleepTimers.nextDeadline(sched, cpu) != 0) {
            return;
        }
        CpuMask.set(stopped, cpu);
        Lapic.write(Lapic.TIMER_INITIAL, cpu == HOUSEKEEPING_CPU ? slowCount : 0);
    }

    /**
     * After a mailbox interrupt on cpu, and when cpu queued a task on itself (no IPI is sent then:
     * the boot CPU spawns the first task from its idle context): restarts its periodic timer if
     * it was stopped, so that a CPU running a task always ticks.
     */
    public static void restart(int cpu, int lapicTicksPerTick) {
        if (CpuMask.contains(stopped, cpu)) {
            CpuMask.clear(stopped, cpu);
            Lapic.write(Lapic.TIMER_INITIAL, lapicTicksPerTick);
        }
    }

    /** RESCHEDULE to one stopped CPU, searched from the caller's successor so kicks spread. */
    private static void kickOne(int cpu) {
        int target = CpuMask.next(stopped, cpu + 1);
        if (target < 0) {
            target = CpuMask.next(stopped, 0);
        }
        if (target >= 0 && target != cpu) {
            IpiMailbox.post(SmpState.mailbox(), target, IpiReason.RESCHEDULE);
        }
    }
}
