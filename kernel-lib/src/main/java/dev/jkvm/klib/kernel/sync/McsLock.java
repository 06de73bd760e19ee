package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Fence;
import dev.jkvm.klib.rt.Memory;

/**
 * The MCS queue lock (Mellor-Crummey and Scott, 1991): FIFO like a ticket lock, but each waiter
 * spins on its own queue node instead of the shared lock word, so a hand-over touches one
 * waiter's cache line rather than every waiter's. Each CPU owns one node per lock nesting level
 * (nodeFor gives CPU cpu's node in a per-CPU array); a node is in use from lock until unlock.
 *
 * Lock layout (SIZE bytes, 8-byte aligned):
 * <pre>
 *   +0  long tail      node of the last CPU in the queue, 0 when the lock is free
 *   +8  int  ownerCpu  holder's CPU id, maintained only by CheckedMcsLock; NO_OWNER otherwise
 *   +12 int  reserved
 *   +16 LockStats
 * </pre>
 * Node layout (NODE_SIZE bytes, one cache line):
 * <pre>
 *   +0 long next      the successor's node, set by the successor once it has queued
 *   +8 int  waiting   1 until the predecessor hands the lock over
 * </pre>
 * Ordering (Intel SDM Vol. 3A 9.2.2): the XCHG on tail is locked, a full barrier, so the node's
 * initialisation is visible before the node is reachable. Hand-over is a plain store to the
 * successor's waiting field after the critical section's stores, which x86-TSO keeps in order.
 */
public final class McsLock {
    private McsLock() {
    }

    public static final int TAIL = 0;
    public static final int OWNER_CPU = 8;
    public static final int STATS = 16;
    public static final int SIZE = STATS + LockStats.SIZE;

    public static final int NEXT = 0;
    public static final int WAITING = 8;
    public static final int NODE_SIZE = 64;

    public static final int NO_OWNER = -1;

    public static void init(long lock) {
        Memory.store64(lock + TAIL, 0L);
        Memory.store32(lock + OWNER_CPU, NO_OWNER);
        Memory.store32(lock + OWNER_CPU + 4, 0);
        LockStats.init(lock + STATS);
    }

    /** CPU cpu's node in an array of per-CPU nodes (NODE_SIZE bytes each, 64-byte aligned). */
    public static long nodeFor(long nodes, int cpu) {
        return nodes + (long) cpu * NODE_SIZE;
    }

    public static void lock(long lock, long node) {
        Memory.store64(node + NEXT, 0L);
        Memory.store32(node + WAITING, 1);
        long predecessor = Atomic.exchange64Acquire(lock + TAIL, node);
        long spins = 0;
        if (predecessor != 0) {
            Atomic.storeVolatile64(predecessor + NEXT, node);
            while (Atomic.loadVolatile32(node + WAITING) != 0) {
                Cpu.pause();
                spins++;
            }
        }
        LockStats.recordExclusive(lock + STATS, spins);
    }

    /** Takes the lock only when nobody holds or waits for it. */
    public static boolean tryLock(long lock, long node) {
        Memory.store64(node + NEXT, 0L);
        Memory.store32(node + WAITING, 0);
        if (!Atomic.compareAndSet64Acquire(lock + TAIL, 0L, node)) {
            return false;
        }
        LockStats.recordExclusive(lock + STATS, 0);
        return true;
    }

    public static void unlock(long lock, long node) {
        long successor = Atomic.loadVolatile64(node + NEXT);
        if (successor == 0) {
            if (Atomic.compareAndSet64Release(lock + TAIL, node, 0L)) {
                return;
            }
            // A successor swapped itself into tail but has not linked itself to us yet.
            successor = Atomic.loadVolatile64(node + NEXT);
            while (successor == 0) {
                Cpu.pause();
                successor = Atomic.loadVolatile64(node + NEXT);
            }
        }
        Fence.release();
        Memory.store32(successor + WAITING, 0);
    }

    public static boolean isLocked(long lock) {
        return Atomic.loadVolatile64(lock + TAIL) != 0;
    }

    public static long stats(long lock) {
        return lock + STATS;
    }
}
