package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

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

    @Test
    void aSinglePartyNeverWaits() {
        SenseBarrier.init(barrier, 1);
        for (int i = 0; i < 3; i++) {
            assertEquals(true, SenseBarrier.await(barrier));
        }
        assertEquals(3, SenseBarrier.rounds(barrier));
    }
}
