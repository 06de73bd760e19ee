package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.memory.GuestMemory;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a VM into equal NUMA nodes for the SRAT (ACPI 6.5 §5.2.16): contiguous blocks of vCPUs
 * and of RAM, node i owning the i-th block of each, as QEMU does for {@code -numa node} without
 * explicit ranges. Block boundaries are 2 MiB aligned so a node never splits a large page.
 */
public final class NumaLayout {
    private static final long ALIGN = 2L << 20;

    private NumaLayout() {}

    public static List<NumaNode> split(int nodes, int cpus, GuestMemory memory) {
        if (nodes < 1 || nodes > cpus) {
            throw new IllegalArgumentException(nodes + " NUMA nodes for " + cpus + " vCPUs: give 1 to " + cpus
                    + " nodes so that every node has a vCPU");
        }
        List<GuestMemory.Region> regions = memory.regions();
        if (regions.size() != 1) {
            throw new IllegalArgumentException("NUMA nodes need all RAM below the 3 GiB hole; give at most 3G of memory");
        }
        GuestMemory.Region ram = regions.getFirst();
        long chunk = ram.size() / nodes / ALIGN * ALIGN;
        if (chunk == 0) {
            throw new IllegalArgumentException((ram.size() >> 20) + " MiB of memory cannot be split into " + nodes
                    + " NUMA nodes of at least 2 MiB; give more memory or fewer nodes");
        }
        List<NumaNode> result = new ArrayList<>(nodes);
        for (int n = 0; n < nodes; n++) {
            long base = ram.base() + n * chunk;
            long size = n == nodes - 1 ? ram.end() - base : chunk;
            List<Integer> members = new ArrayList<>();
            for (int c = n * cpus / nodes; c < (n + 1) * cpus / nodes; c++) members.add(c);
            result.add(new NumaNode(n, base, size, members));
        }
        return result;
    }
}
