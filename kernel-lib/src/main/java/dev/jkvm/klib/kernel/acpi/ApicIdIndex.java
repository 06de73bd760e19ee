package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.Memory;

/**
 * APIC ID → processor index, an open-addressing hash table in the Topology's index area, so the
 * duplicate check over n processors costs O(n) rather than O(n²): ring-0 code runs emulated at
 * about a million instructions per second here, and MADTs list a thousand CPUs and more.
 * Each u32 slot holds processor index + 1; 0 marks an empty slot.
 */
final class ApicIdIndex {
    private ApicIdIndex() {
    }

    static void clear(long topology) {
        long slots = slotsAddress(topology);
        int count = slotCount(topology);
        for (int i = 0; i < count; i++) {
            Memory.store32(slots + 4L * i, 0);
        }
    }

    /** Index of the processor with this APIC ID, or -1. */
    static int find(long topology, int apicId) {
        long slots = slotsAddress(topology);
        int mask = slotCount(topology) - 1;
        int slot = hash(apicId) & mask;
        while (true) {
            int stored = Memory.load32(slots + 4L * slot);
            if (stored == 0) {
                return -1;
            }
            if (Topology.cpuApicId(topology, stored - 1) == apicId) {
                return stored - 1;
            }
            slot = (slot + 1) & mask;
        }
    }

    /** Records the processor; the slot count is at least twice the capacity, so a free slot exists. */
    static void insert(long topology, int apicId, int index) {
        long slots = slotsAddress(topology);
        int mask = slotCount(topology) - 1;
        int slot = hash(apicId) & mask;
        while (Memory.load32(slots + 4L * slot) != 0) {
            slot = (slot + 1) & mask;
        }
        Memory.store32(slots + 4L * slot, index + 1);
    }

    /** Fibonacci hashing: APIC IDs are often dense or strided, the multiply spreads them. */
    private static int hash(int apicId) {
        return (apicId * 0x9E3779B1) >>> 7;
    }

    private static long slotsAddress(long topology) {
        return topology + Memory.load32(topology + Topology.OFFSET_INDEX);
    }

    private static int slotCount(long topology) {
        return Memory.load32(topology + Topology.OFFSET_INDEX_SLOTS);
    }
}
