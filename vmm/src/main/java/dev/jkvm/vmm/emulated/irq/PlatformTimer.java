package dev.jkvm.vmm.emulated.irq;

import dev.jkvm.vmm.emulated.time.GuestClock;

import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One platform thread that fires every armed {@link TimerSource} (LAPIC timers, PIT channel 0)
 * when its GuestClock deadline passes, parked in between: no busy thread, and a running vCPU
 * learns of its timer interrupt through the {@code CpuEvents.INTERRUPT} the LAPIC posts, within
 * one decoded block.
 *
 * <p>Why a thread and not only vCPU polling: a vCPU that runs guest code without ever halting
 * would have to compare the clock with its deadline between blocks, and the PIT belongs to no
 * vCPU. With this thread the vCPUs need not poll at all; they still may (the LAPIC's
 * {@code tick(now)} is idempotent), which is what a later virtual-time mode will do instead of
 * starting this thread, since its parking assumes GuestClock advances with host time.
 *
 * <p>Sources call {@link #schedule} whenever they arm a deadline; stale queue entries (the
 * source re-armed or disarmed since) are dropped when they surface. Timers that fire late
 * (host scheduling) fire once; periodic sources re-arm from their own period, not from now.
 */
public final class PlatformTimer implements AutoCloseable {
    private record Entry(long deadline, TimerSource source) {}

    private final GuestClock clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final PriorityQueue<Entry> queue = new PriorityQueue<>((a, b) -> Long.compare(a.deadline, b.deadline));
    private final Thread thread;
    private volatile boolean closed;

    public PlatformTimer(GuestClock clock) {
        this.clock = clock;
        this.thread = Thread.ofPlatform().daemon().name("jkvm-platform-timer").unstarted(this::run);
    }

    public PlatformTimer start() {
        thread.start();
        return this;
    }

    /** Asks for {@code source.tick} at GuestClock {@code deadline}. Any thread; cheap. */
    public void schedule(TimerSource source, long deadline) {
        if (deadline == Long.MAX_VALUE) return;
        lock.lock();
        try {
            Entry head = queue.peek();
            queue.add(new Entry(deadline, source));
            if (head == null || deadline < head.deadline) changed.signal();
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        while (!closed) {
            TimerSource due = null;
            long now;
            lock.lock();
            try {
                Entry head = queue.peek();
                now = clock.nanos();
                if (head == null) {
                    changed.await();
                    continue;
                }
                if (head.source.nextDeadline() != head.deadline) {
                    queue.poll(); // re-armed or disarmed since: a newer entry (if any) is queued
                    continue;
                }
                if (head.deadline > now) {
                    changed.awaitNanos(head.deadline - now);
                    continue;
                }
                queue.poll();
                due = head.source;
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
            // Outside the lock: tick re-arms through schedule and may take device locks.
            due.tick(now);
        }
    }

    /** Stops the thread and waits for it. */
    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
