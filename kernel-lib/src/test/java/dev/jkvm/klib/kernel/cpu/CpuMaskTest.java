package dev.jkvm.klib.kernel.cpu;

import dev.jkvm.klib.kernel.sync.HostCpus;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.BitSet;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CpuMask against java.util.BitSet as the reference set. */
class CpuMaskTest {
    private Arena arena;
    private long mask;

    @BeforeEach
    void allocate() {
        arena = HostCpus.sharedMemory();
        mask = arena.allocate(CpuMask.SIZE, 8).address();
        CpuMask.clearAll(mask);
    }

    @Test
    void holdsAllThousandTwentyFourCpus() {
        assertEquals(128, CpuMask.SIZE);
        CpuMask.setFirst(mask, CpuMask.MAX_CPUS);
        assertEquals(1024, CpuMask.count(mask));
        assertEquals(1023, CpuMask.next(mask, 1023));
        assertEquals(-1, CpuMask.next(mask, 1024));
    }

    @Test
    void agreesWithBitSetOnRandomOperations() {
        BitSet reference = new BitSet();
        Random random = new Random(1234);
        for (int i = 0; i < 20_000; i++) {
            int cpu = random.nextInt(CpuMask.MAX_CPUS);
            switch (random.nextInt(3)) {
                case 0 -> {
                    assertEquals(reference.get(cpu), CpuMask.set(mask, cpu));
                    reference.set(cpu);
                }
                case 1 -> {
                    assertEquals(reference.get(cpu), CpuMask.clear(mask, cpu));
                    reference.clear(cpu);
                }
                default -> assertEquals(reference.nextSetBit(cpu), CpuMask.next(mask, cpu));
            }
            assertEquals(reference.get(cpu), CpuMask.contains(mask, cpu));
        }
        assertEquals(reference.cardinality(), CpuMask.count(mask));
        BitSet iterated = new BitSet();
        for (int cpu = CpuMask.next(mask, 0); cpu >= 0; cpu = CpuMask.next(mask, cpu + 1)) {
            iterated.set(cpu);
        }
        assertEquals(reference, iterated);
    }

    @Test
    void setFirstMatchesARange() {
        for (int count : new int[] {0, 1, 63, 64, 65, 127, 128, 700, 1023, 1024}) {
            CpuMask.setFirst(mask, count);
            BitSet expected = new BitSet();
            expected.set(0, count);
            for (int cpu = 0; cpu < CpuMask.MAX_CPUS; cpu++) {
                assertEquals(expected.get(cpu), CpuMask.contains(mask, cpu), "count " + count + " cpu " + cpu);
            }
        }
    }

    @Test
    void copyAndBitHelpersAgreeWithTheJdk() {
        long other = arena.allocate(CpuMask.SIZE, 8).address();
        CpuMask.set(mask, 5);
        CpuMask.set(mask, 900);
        CpuMask.copy(other, mask);
        assertTrue(CpuMask.contains(other, 900));
        assertFalse(CpuMask.contains(other, 6));
        Random random = new Random(99);
        for (int i = 0; i < 10_000; i++) {
            long bits = random.nextLong() << random.nextInt(64);
            assertEquals(Long.bitCount(bits), CpuMask.bitCount(bits));
            if (bits != 0) {
                assertEquals(Long.numberOfTrailingZeros(bits), CpuMask.lowestBit(bits));
            }
        }
    }

    @Test
    void concurrentSetsOfNeighbouringBitsAreAllKept() throws Exception {
        int cpus = 8;
        HostCpus.run(cpus, cpu -> {
            // Every thread writes every word, interleaved bit by bit with the others.
            for (int bit = cpu; bit < CpuMask.MAX_CPUS; bit += cpus) {
                assertFalse(CpuMask.set(mask, bit));
            }
        });
        assertEquals(CpuMask.MAX_CPUS, CpuMask.count(mask));
        HostCpus.run(cpus, cpu -> {
            for (int bit = cpu; bit < CpuMask.MAX_CPUS; bit += 2 * cpus) {
                assertTrue(CpuMask.clear(mask, bit));
            }
        });
        assertEquals(CpuMask.MAX_CPUS / 2, CpuMask.count(mask));
    }
}
