package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.HostArena;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The APIC ID → processor index table behind duplicate detection and cpuIndexOfApicId. */
class ApicIdIndexTest {
    private static final int CAPACITY = 64;

    private static long topology(Arena arena) {
        long base = arena.allocate(Topology.bytesNeeded(CAPACITY, 1, 1, 1), 16).address();
        Topology.format(base, CAPACITY, 1, 1, 1);
        return base;
    }

    @Test
    void everyProcessorIsFoundAtItsOwnIndexAndNoOtherIdIs() {
        try (Arena arena = HostArena.ofConfined()) {
            long base = topology(arena);
            Topology.resetToBootCpu(base, 0);
            // Dense and strided IDs, as firmware hands them out; enough to collide in a 128-slot table.
            for (int i = 1; i < CAPACITY; i++) {
                Topology.appendCpu(base, i < 32 ? i : 256 + 8 * i, i, Topology.CPU_ENABLED);
            }
            for (int i = 0; i < CAPACITY; i++) {
                int id = i < 32 ? i : 256 + 8 * i;
                assertEquals(i, Topology.cpuIndexOfApicId(base, id), "APIC ID " + id);
            }
            for (int id : new int[] {32, 255, 257, 256 + 8 * CAPACITY, -1}) {
                assertEquals(-1, Topology.cpuIndexOfApicId(base, id), "APIC ID " + id + " was never added");
            }
        }
    }

    @Test
    void resettingToTheBootCpuForgetsEveryOtherProcessor() {
        try (Arena arena = HostArena.ofConfined()) {
            long base = topology(arena);
            Topology.resetToBootCpu(base, 5);
            for (int id = 6; id < 6 + CAPACITY - 1; id++) {
                Topology.appendCpu(base, id, id, Topology.CPU_ENABLED);
            }
            Topology.resetToBootCpu(base, 7);
            assertEquals(0, Topology.cpuIndexOfApicId(base, 7));
            for (int id = 5; id < 6 + CAPACITY - 1; id++) {
                if (id != 7) {
                    assertEquals(-1, Topology.cpuIndexOfApicId(base, id), "APIC ID " + id + " after the reset");
                }
            }
        }
    }
}
