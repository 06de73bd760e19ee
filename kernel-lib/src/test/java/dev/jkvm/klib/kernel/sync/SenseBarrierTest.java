package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SenseBarrierTest {
    private static final int CPUS = 4;

    private Arena arena;
    private long barrier;
    private long progress;

    @BeforeEach
    void allocate() {
        arena = HostCpus.sharedMemory();
        barrier = arena.allocate(SenseBarrier.SIZE, 64).address();
        progress = arena.allocate(CPUS * 64L, 64).address();
        arena.allocate(CPUS * 64L, 64).fill((byte) 0);
        for (int cpu = 0; cpu < CPUS; cpu++) {
            Memory.store32(progress + cpu * 64L, -1);
        }
    }

    @Test
    void nobodyPassesARoundBeforeEveryoneReachedIt() throws Exception {
        int rounds = 30;
        SenseBarrier.init(barrier, CPUS);
        AtomicInteger lastArrivals = new AtomicInteger();
        HostCpus.run(CPUS, cpu -> {
            for (int round = 0; round < rounds; round++) {
                Memory.store32(progress + cpu * 64L, round);
                if (SenseBarrier.await(barrier)) {
                    lastArrivals.incrementAndGet();
                }
                for (int other = 0; other < CPUS; other++) {
                    // Nobody may be behind (not yet arrived) nor ahead (already past the next barrier).
                    assertEquals(round, Atomic.loadVolatile32(progress + other * 64L),
                            "cpu " + other + " in round " + round + " as seen by cpu " + cpu);
                }
                if (SenseBarrier.await(barrier)) {
                    lastArrivals.incrementAndGet();
                }
            }
        });
        assertEquals(2 * rounds, lastArrivals.get(), "exactly one last arrival per round");
        assertEquals(2 * rounds, SenseBarrier.rounds(barrier));
        assertEquals(CPUS, Memory.load32(barrier + SenseBarrier.REMAINING), "re-armed for the next round");
    }

    /**
     * CPU 0 arrives last on purpose (after seeing everyone else's decrement), so every other CPU
     * must wait each round: their waits and spins show up in the statistics.
     */
    @Test
    void waitersOfALateArrivalAreCounted() throws Exception {
        int rounds = 50;
        SenseBarrier.init(barrier, CPUS);
        HostCpus.run(CPUS, cpu -> {
            for (int round = 0; round < rounds; round++) {
                if (cpu == 0) {
                    while (Atomic.loadVolatile32(barrier + SenseBarrier.REMAINING) != 1) {
                        Thread.onSpinWait();
                    }
                }
                SenseBarrier.await(barrier);
            }
        });
        long stats = SenseBarrier.stats(barrier);
        assertEquals((long) rounds * CPUS, LockStats.acquisitions(stats), "arrivals");
        assertTrue(LockStats.contended(stats) >= 1, "no waiter counted");
        assertTrue(LockStats.contended(stats) <= (long) rounds * (CPUS - 1), "more waiters than non-last arrivals");
        assertTrue(LockStats.spins(stats) >= LockStats.contended(stats));
    }

    @Test
    void aSinglePartyNeverWaits() {
        SenseBarrier.init(barrier, 1);
        for (int i = 0; i < 3; i++) {
            assertEquals(true, SenseBarrier.await(barrier));
        }
        assertEquals(3, SenseBarrier.rounds(barrier));
        assertEquals(3, LockStats.acquisitions(SenseBarrier.stats(barrier)));
        assertEquals(0, LockStats.contended(SenseBarrier.stats(barrier)));
        assertEquals(0, LockStats.spins(SenseBarrier.stats(barrier)));
    }
}
