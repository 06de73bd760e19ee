package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Fence;
import dev.jkvm.klib.rt.Memory;

/**
 * A sense-reversing barrier for a fixed number of CPUs, reusable round after round. Each
 * arriving CPU notes the current sense, then decrements the count of CPUs still missing; the
 * last one re-arms the count and flips the sense, which releases the others spinning on it.
 *
 * The classic form keeps a local sense per CPU; here the arriving CPU reads the shared sense
 * instead, which is equivalent: the sense cannot flip before this CPU's own decrement, and a CPU
 * only reaches the next round after it saw the previous flip. So the barrier needs no per-CPU
 * state and any CPU may take part under any id.
 *
 * Layout (SIZE bytes, 8-byte aligned):
 * <pre>
 *   +0 int remaining   CPUs of this round that have not arrived yet
 *   +4 int parties     CPUs per round
 *   +8 int sense       0 or 1, flipped by the last arrival of each round
 *   +12 int rounds     completed rounds (wraps), for diagnostics
 *   +16 LockStats      acquisitions: arrivals; contended: arrivals that had to spin;
 *                      spins: PAUSE iterations of those waiters (how unevenly CPUs arrive)
 * </pre>
 * The last arrival adds the whole round's arrivals with a plain add: no two last arrivals
 * overlap, since the next round's last one has seen this round's flip. Only a waiter that
 * spun pays for locked adds, after it was released, so an arrival that finds everyone there
 * costs nothing extra.
 *
 * Ordering (Intel SDM Vol. 3A 9.2.2): the last CPU's stores to remaining and rounds precede its
 * store to sense, and stores are seen in program order, so a CPU released by the flip already
 * sees the re-armed count. The locked decrement is a full barrier, so every CPU's work before
 * the barrier is visible to every CPU after it.
 */
public final class SenseBarrier {
    private SenseBarrier() {
    }

    public static final int REMAINING = 0;
    public static final int PARTIES = 4;
    public static final int SENSE = 8;
    public static final int ROUNDS = 12;
    public static final int STATS = 16;
    public static final int SIZE = STATS + LockStats.SIZE;

    public static void init(long barrier, int parties) {
        Memory.store32(barrier + REMAINING, parties);
        Memory.store32(barrier + PARTIES, parties);
        Memory.store32(barrier + SENSE, 0);
        Memory.store32(barrier + ROUNDS, 0);
        LockStats.init(barrier + STATS);
    }

    /** Waits until all parties arrived; returns true on exactly one CPU per round (the last). */
    public static boolean await(long barrier) {
        int sense = Atomic.loadVolatile32(barrier + SENSE);
        if (Atomic.fetchAdd32(barrier + REMAINING, -1) == 1) {
            Memory.store32(barrier + REMAINING, Memory.load32(barrier + PARTIES));
            Memory.store32(barrier + ROUNDS, Memory.load32(barrier + ROUNDS) + 1);
            long arrivals = barrier + STATS + LockStats.ACQUISITIONS;
            Memory.store64(arrivals, Memory.load64(arrivals) + Memory.load32(barrier + PARTIES));
            Fence.release();
            Atomic.storeVolatile32(barrier + SENSE, sense ^ 1);
            return true;
        }
        long spins = 0;
        while (Atomic.loadVolatile32(barrier + SENSE) == sense) {
            Cpu.pause();
            spins++;
        }
        if (spins != 0) {
            Atomic.fetchAdd64(barrier + STATS + LockStats.CONTENDED, 1L);
            Atomic.fetchAdd64(barrier + STATS + LockStats.SPINS, spins);
        }
        return false;
    }

    public static long stats(long barrier) {
        return barrier + STATS;
    }

    /** Rounds completed so far (a snapshot). */
    public static int rounds(long barrier) {
        return Atomic.loadVolatile32(barrier + ROUNDS);
    }
}
