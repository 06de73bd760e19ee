package dev.jkvm.vmm.acpi;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/** Machine shapes the ACPI tests share. */
final class AcpiConfigs {
    private AcpiConfigs() {}

    static final long GIB = 1L << 30;

    /** {@code cpus} CPUs split round-robin over {@code nodes} nodes of 1 GiB each, stacked from 0. */
    static AcpiConfig numa(int cpus, int nodes) {
        List<NumaNode> list = new ArrayList<>();
        for (int n = 0; n < nodes; n++) {
            int node = n;
            List<Integer> mine = IntStream.range(0, cpus).filter(c -> c % nodes == node).boxed().toList();
            list.add(new NumaNode(n, n * GIB, GIB, mine));
        }
        return AcpiConfig.forCpus(cpus).withNumaNodes(list);
    }

    static List<Integer> range(int from, int to) {
        return IntStream.range(from, to).boxed().toList();
    }
}
