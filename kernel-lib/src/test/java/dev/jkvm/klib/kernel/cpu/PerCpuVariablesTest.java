package dev.jkvm.klib.kernel.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.sync.HostCpus;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The dynamic per-CPU allocator on the host JVM: host threads stand in for CPUs, each with its
 * own "GS base" (a thread-local area address the accessor routines' stand-ins add the offset to).
 */
class PerCpuVariablesTest {
    /** A static part of three cache lines, as a kernel with a few @PerCpu fields has. */
    private static final long STATIC_BYTES = 3 * 64;
    private static final long AREA_BYTES = STATIC_BYTES + PerCpuArea.DYNAMIC_BYTES;
    private static final ThreadLocal<Long> GS_BASE = new ThreadLocal<>();

    private long state;

    @BeforeEach
    void setUp() {
        Arena arena = HostCpus.sharedMemory();
        state = arena.allocate(PerCpuVariables.STATE_SIZE, 64).address();
        PerCpuVariables.init(state, STATIC_BYTES, PerCpuArea.DYNAMIC_BYTES);
        Asm.hostDefine(Log.PUTC, args -> {
            Console.print(String.valueOf((char) args[0]));
            return 0;
        });
        Asm.hostDefine(PerCpuVariables.READ_SYMBOL, args -> Memory.load64(GS_BASE.get() + args[0]));
        Asm.hostDefine(PerCpuVariables.WRITE_SYMBOL, args -> {
            Memory.store64(GS_BASE.get() + args[0], args[1]);
            return 0;
        });
        Asm.hostDefine(PerCpuVariables.ADD_SYMBOL, args -> {
            Memory.store64(GS_BASE.get() + args[0], Memory.load64(GS_BASE.get() + args[0]) + args[1]);
            return 0;
        });
        Console.hostClear();
    }

    @Test
    void offsetsAreAlignedDisjointAndPastTheStaticPart() {
        long[][] requests = {{8, 8}, {1, 1}, {4, 4}, {64, 64}, {3, 1}, {16, 16}, {2, 2}, {24, 8}, {1, 64}, {8, 8}};
        TreeMap<Long, Long> ranges = new TreeMap<>();
        for (long[] r : requests) {
            long offset = PerCpuVariables.register(r[0], r[1]);
            assertNotEquals(0, offset, "refused " + r[0] + "/" + r[1] + ": " + Console.hostOutput());
            assertEquals(0, offset % r[1], "offset " + offset + " not aligned to " + r[1]);
            assertTrue(offset >= STATIC_BYTES, "overlaps the static @PerCpu part: " + offset);
            assertTrue(offset + r[0] <= AREA_BYTES, "past the area: " + offset);
            ranges.put(offset, offset + r[0]);
        }
        assertEquals(requests.length, ranges.size(), "two variables got the same offset");
        long previousEnd = 0;
        for (var e : ranges.entrySet()) {
            assertTrue(e.getKey() >= previousEnd, "overlapping variables at " + e.getKey());
            previousEnd = e.getValue();
        }
        assertEquals(previousEnd - STATIC_BYTES, PerCpuVariables.used());
        assertEquals(PerCpuArea.DYNAMIC_BYTES, PerCpuVariables.capacity());
        assertEquals(STATIC_BYTES, PerCpuVariables.regionStart());
        assertEquals("", Console.hostOutput());
    }

    @Test
    void aFullRegionRefusesWithOneLineAndKeepsServingWhatFits() {
        long big = PerCpuVariables.register(PerCpuArea.DYNAMIC_BYTES - 64, 64);
        assertEquals(STATIC_BYTES, big);
        assertEquals(0, PerCpuVariables.register(128, 8));
        assertEquals("percpu: dynamic region full: 128 bytes requested, 64 of 4096 left (raise PerCpuArea.DYNAMIC_BYTES)\n",
                Console.hostOutput());
        assertEquals(1, PerCpuVariables.refused());
        long last = PerCpuVariables.register(64, 8);
        assertEquals(STATIC_BYTES + PerCpuArea.DYNAMIC_BYTES - 64, last, "the remaining line still fits exactly");
        assertEquals(0, PerCpuVariables.register(1, 1), "not one byte more");
        assertEquals(PerCpuArea.DYNAMIC_BYTES, PerCpuVariables.used());
        assertEquals(2, PerCpuVariables.refused());
    }

    @Test
    void impossibleRequestsAreRefused() {
        assertEquals(0, PerCpuVariables.register(0, 8));
        assertEquals(0, PerCpuVariables.register(8, 3));
        assertEquals(0, PerCpuVariables.register(8, 128), "areas are only 64-byte aligned");
        assertEquals(0, PerCpuVariables.register(Long.MAX_VALUE, 8), "size overflowing the offset");
        assertEquals(4, PerCpuVariables.refused());
        assertEquals(0, PerCpuVariables.used());
        assertTrue(Console.hostOutput().startsWith("percpu: refused a variable of 0 bytes aligned to 8 "),
                Console.hostOutput());
    }

    @Test
    void concurrentRegistrationsNeverShareBytes() throws Exception {
        int each = 100;
        ConcurrentLinkedQueue<Long> offsets = new ConcurrentLinkedQueue<>();
        HostCpus.run(HostCpus.CORES, cpu -> {
            for (int i = 0; i < each; i++) {
                offsets.add(PerCpuVariables.register(8, 8));
            }
        });
        List<Long> sorted = new ArrayList<>(offsets);
        sorted.sort(null);
        assertEquals((long) each * HostCpus.CORES, sorted.size());
        assertTrue(sorted.get(0) >= STATIC_BYTES);
        for (int i = 1; i < sorted.size(); i++) {
            assertTrue(sorted.get(i) >= sorted.get(i - 1) + 8, "overlap at " + sorted.get(i));
        }
        assertEquals(8L * each * HostCpus.CORES, PerCpuVariables.used());
    }

    /**
     * Each simulated CPU writes and adds to its own copy through its GS base only; the copies
     * read back by CPU index must each hold that CPU's value, and sum must add them up.
     */
    @Test
    void eachCpuReachesItsOwnCopyAndTheBootCpuReadsThemAllByIndex() throws Exception {
        int cpus = HostCpus.CORES + 1;
        Arena arena = HostCpus.sharedMemory();
        MemorySegment bootMemory = arena.allocate(1 << 20, 4096);
        BootAllocator.init(bootMemory.address(), bootMemory.address() + bootMemory.byteSize());
        Asm.hostDefine("kernel_memzero", args -> {
            MemorySegment.ofAddress(args[0]).reinterpret(args[1]).fill((byte) 0);
            return 0;
        });
        CpuRecord.allocate(cpus);
        long mask = arena.allocate(CpuMask.SIZE, 8).address();
        CpuMask.clearAll(mask);
        for (int cpu = 0; cpu < cpus; cpu++) {
            long area = arena.allocate(AREA_BYTES, PerCpuArea.ALIGNMENT).fill((byte) 0).address();
            Memory.store64(CpuRecord.of(cpu) + CpuRecord.AREA, area);
            CpuMask.set(mask, cpu);
        }
        long tag = PerCpuVariables.register(8, 8);
        long counter = PerCpuVariables.register(8, 64);
        int adds = 1000;
        HostCpus.run(cpus, cpu -> {
            GS_BASE.set(CpuRecord.area(cpu));
            PerCpuVariables.write(tag, 0x7A60_0000L + cpu);
            for (int i = 0; i < adds * (cpu + 1); i++) {
                PerCpuVariables.add(counter, 1);
            }
            assertEquals(0x7A60_0000L + cpu, PerCpuVariables.read(tag));
        });
        long expectedSum = 0;
        for (int cpu = 0; cpu < cpus; cpu++) {
            assertEquals(0x7A60_0000L + cpu, Memory.load64(PerCpuVariables.of(cpu, tag)), "cpu " + cpu);
            assertEquals((long) adds * (cpu + 1), Memory.load64(PerCpuVariables.of(cpu, counter)), "cpu " + cpu);
            expectedSum += (long) adds * (cpu + 1);
        }
        assertEquals(expectedSum, PerCpuVariables.sum(counter, mask));
        CpuMask.clear(mask, 0);
        assertEquals(expectedSum - adds, PerCpuVariables.sum(counter, mask), "only the CPUs in the mask");
    }
}
