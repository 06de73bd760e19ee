package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * A counting semaphore in raw memory: post adds a unit, a wait takes one when available.
 *
 * Waiting spins for now. The scheduler will make waiters sleep instead: the two hook points are
 * awaitPost (where a waiter with nothing to take would enqueue itself on the semaphore's wait
 * queue and block) and wakeWaiter (where post would make one queued waiter runnable). Everything
 * else, including the count's protocol, stays as it is; the waiters field already counts the
 * CPUs inside awaitPost so the waking side can skip the queue when it is empty.
 *
 * Layout (SIZE bytes, 4-byte aligned):
 * <pre>
 *   +0 int count     available units, never negative
 *   +4 int waiters   CPUs currently inside awaitPost
 * </pre>
 * Ordering: taking and posting are locked read-modify-writes, full barriers on x86 (Intel SDM
 * Vol. 3A 9.2.2), so whatever the poster wrote before post is visible to the taker.
 */
public final class CountingSemaphore {
    private CountingSemaphore() {
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

    /** Scheduler hook: spinning waiters notice the new count by themselves, so nothing to do yet. */
    private static void wakeWaiter(long semaphore) {
    }
}
