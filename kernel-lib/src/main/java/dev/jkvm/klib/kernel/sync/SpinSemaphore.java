package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * A counting semaphore in raw memory: post adds a unit, a wait takes one when available.
 *
 * Waiters spin (awaitPost): this is the semaphore for code that may not sleep, such as code that
 * runs before the scheduler or on every CPU at once in the self-tests. Tasks that should sleep
 * use sched.BlockingSemaphore, which keeps this count and its protocol and adds a wait queue
 * (its waiters field here stays 0). The waiters field counts the CPUs inside awaitPost, so
 * wakeWaiter can tell when nobody waits.
 *
 * Layout (SIZE bytes, 4-byte aligned):
 * <pre>
 *   +0 int count     available units, never negative
 *   +4 int waiters   CPUs currently inside awaitPost
 * </pre>
 * Ordering: taking and posting are locked read-modify-writes, full barriers on x86 (Intel SDM
 * Vol. 3A 9.2.2), so whatever the poster wrote before post is visible to the taker.
 */
public final class SpinSemaphore {
    private SpinSemaphore() {
    }

    public static final int COUNT = 0;
    public static final int WAITERS = 4;
    public static final int SIZE = 8;

    public static void init(long semaphore, int count) {
        Memory.store32(semaphore + COUNT, count);
        Memory.store32(semaphore + WAITERS, 0);
    }

    /** Takes one unit if one is available, without waiting. */
    public static boolean tryWait(long semaphore) {
        int count = Atomic.loadVolatile32(semaphore + COUNT);
        while (count > 0) {
            if (Atomic.compareAndSet32Acquire(semaphore + COUNT, count, count - 1)) {
                return true;
            }
            count = Atomic.loadVolatile32(semaphore + COUNT);
        }
        return false;
    }

    /** Takes one unit, spinning until one is posted. */
    public static void waitSpinning(long semaphore) {
        while (!tryWait(semaphore)) {
            awaitPost(semaphore);
        }
    }

    public static void post(long semaphore) {
        Atomic.fetchAdd32Release(semaphore + COUNT, 1);
        if (Atomic.loadVolatile32(semaphore + WAITERS) != 0) {
            wakeWaiter(semaphore);
        }
    }

    /** Available units (a snapshot). */
    public static int count(long semaphore) {
        return Atomic.loadVolatile32(semaphore + COUNT);
    }

    /**
     * Scheduler hook: returns once a unit may be available. Spins reading the count (no locked
     * instruction while it stays zero, so waiters do not steal the cache line from posters).
     */
    private static void awaitPost(long semaphore) {
        Atomic.fetchAdd32(semaphore + WAITERS, 1);
        while (Atomic.loadVolatile32(semaphore + COUNT) <= 0) {
            Cpu.pause();
        }
        Atomic.fetchAdd32(semaphore + WAITERS, -1);
    }

    /** Spinning waiters notice the new count by themselves: nothing to wake. */
    private static void wakeWaiter(long semaphore) {
    }
}
