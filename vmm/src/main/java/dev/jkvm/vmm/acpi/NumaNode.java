package dev.jkvm.vmm.acpi;

import java.util.List;

/**
 * One NUMA proximity domain for the SRAT (ACPI 6.5 §5.2.16): its domain number {@code id}, one
 * RAM range {@code [memoryBase, memoryBase + memorySize)} and the vCPUs (indices into
 * {@link AcpiConfig#apicIds()}) that belong to it.
 */
public record NumaNode(int id, long memoryBase, long memorySize, List<Integer> cpuIndices) {
    public NumaNode {
        if (id < 0) throw new IllegalArgumentException("NUMA node id " + id + " is negative; use 0, 1, 2, ...");
        if (memoryBase < 0) throw new IllegalArgumentException("NUMA node " + id + " memory base is negative");
        if (memorySize <= 0) throw new IllegalArgumentException("NUMA node " + id + " has no memory; give it a positive memorySize");
        if (memoryBase + memorySize < memoryBase) throw new IllegalArgumentException("NUMA node " + id + " memory range wraps past 2^63");
        cpuIndices = List.copyOf(cpuIndices);
    }

    public long memoryEnd() { return memoryBase + memorySize; }
}
