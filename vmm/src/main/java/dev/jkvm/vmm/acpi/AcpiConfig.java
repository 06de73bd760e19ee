package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.memory.GuestLayout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What the ACPI tables describe: the vCPUs (by APIC ID, listed in ACPI processor UID order), the
 * I/O APIC, the interrupt controller addresses and, optionally, the NUMA topology. An empty
 * {@code numaNodes} list means no SRAT is generated.
 *
 * <p>CPU {@code i} gets ACPI processor UID {@code i}. CPUs whose APIC ID is below 255 are
 * described with Processor Local APIC entries, whose UID field is one byte; ACPI 6.5 §5.2.12.12
 * requires those entries for such IDs, so they must sit at indices 0..254. List x2APIC-only
 * IDs (255 and up) after them.
 */
public record AcpiConfig(List<Integer> apicIds, int ioapicId, long lapicBase, long ioapicBase, List<NumaNode> numaNodes) {
    /** xAPIC IDs are 8 bits and 0xFF is the broadcast ID, so 254 is the highest xAPIC CPU ID. */
    static final int MAX_XAPIC_ID = 254;

    public AcpiConfig {
        apicIds = List.copyOf(apicIds);
        numaNodes = List.copyOf(numaNodes);
        if (apicIds.isEmpty()) throw new IllegalArgumentException("ACPI config has no CPUs; give at least one APIC ID");
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < apicIds.size(); i++) {
            int id = apicIds.get(i);
            if (id < 0) throw new IllegalArgumentException("APIC ID " + Integer.toUnsignedString(id) + " of CPU " + i + " is above 2^31-1; use smaller x2APIC IDs");
            if (!seen.add(id)) throw new IllegalArgumentException("APIC ID " + id + " is used by two CPUs; APIC IDs must be unique");
            if (id <= MAX_XAPIC_ID && i > MAX_XAPIC_ID) {
                throw new IllegalArgumentException("CPU " + i + " has xAPIC ID " + id + " but its processor UID does not fit the one-byte UID of a"
                        + " Processor Local APIC entry (ACPI 6.5 §5.2.12.2); list APIC IDs below 255 before the others");
            }
        }
        if (ioapicId < 0 || ioapicId > 0xFF) throw new IllegalArgumentException("I/O APIC ID " + ioapicId + " does not fit its 8-bit MADT field; use 0..255");
        requireBelow4G("local APIC base", lapicBase);
        requireBelow4G("I/O APIC base", ioapicBase);
        validateNuma(apicIds.size(), numaNodes);
    }

    /**
     * {@code cpus} vCPUs with APIC IDs 0..cpus-1 at the default LAPIC/IOAPIC addresses, no NUMA.
     *
     * <p>The I/O APIC takes the first ID after the CPUs, as PC firmware does, so no APIC ID is
     * shared on an xAPIC bus. With 255 or more CPUs every 8-bit ID below the 0xFF broadcast ID
     * belongs to a CPU; the I/O APIC then gets ID 0. That sharing is harmless: I/O APIC IDs only had
     * to be distinct from CPU IDs on the pre-Pentium-4 three-wire APIC bus; since then interrupt
     * messages travel on the system bus and nobody arbitrates by I/O APIC ID (QEMU always uses 0).
     */
    public static AcpiConfig forCpus(int cpus) {
        if (cpus < 1) throw new IllegalArgumentException("CPU count " + cpus + " is below 1; a VM needs at least one vCPU");
        List<Integer> ids = new ArrayList<>(cpus);
        for (int i = 0; i < cpus; i++) ids.add(i);
        int ioapicId = cpus <= MAX_XAPIC_ID ? cpus : 0;
        return new AcpiConfig(ids, ioapicId, GuestLayout.LAPIC_BASE, GuestLayout.IOAPIC_BASE, List.of());
    }

    /** The same machine with the given NUMA topology (and hence an SRAT). */
    public AcpiConfig withNumaNodes(List<NumaNode> nodes) {
        return new AcpiConfig(apicIds, ioapicId, lapicBase, ioapicBase, nodes);
    }

    public int cpuCount() { return apicIds.size(); }

    /**
     * Whether CPU {@code index} needs x2APIC structures (MADT type 9, SRAT type 2): exactly those
     * with APIC IDs that do not fit the 8-bit xAPIC ID (ACPI 6.5 §5.2.12.12).
     */
    public boolean isX2apicOnly(int index) {
        return apicIds.get(index) > MAX_XAPIC_ID;
    }

    private static void requireBelow4G(String what, long address) {
        if (address < 0 || address > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException(what + " 0x" + Long.toHexString(address) + " does not fit the 32-bit MADT field; place it below 4 GiB");
        }
    }

    private static void validateNuma(int cpus, List<NumaNode> nodes) {
        if (nodes.isEmpty()) return;
        Set<Integer> ids = new HashSet<>();
        int[] owner = new int[cpus];
        Arrays.fill(owner, -1);
        for (NumaNode n : nodes) {
            if (!ids.add(n.id())) throw new IllegalArgumentException("NUMA node id " + n.id() + " appears twice; node ids must be unique");
            for (int cpu : n.cpuIndices()) {
                if (cpu < 0 || cpu >= cpus) throw new IllegalArgumentException("NUMA node " + n.id() + " lists CPU " + cpu + " but there are only " + cpus + " CPUs");
                if (owner[cpu] >= 0) throw new IllegalArgumentException("CPU " + cpu + " is in NUMA nodes " + owner[cpu] + " and " + n.id() + "; put it in one node");
                owner[cpu] = n.id();
            }
        }
        for (int cpu = 0; cpu < cpus; cpu++) {
            if (owner[cpu] < 0) throw new IllegalArgumentException("CPU " + cpu + " is in no NUMA node; list it in one node's cpuIndices");
        }
        List<NumaNode> byBase = new ArrayList<>(nodes);
        byBase.sort((a, b) -> Long.compare(a.memoryBase(), b.memoryBase()));
        for (int i = 1; i < byBase.size(); i++) {
            NumaNode prev = byBase.get(i - 1), cur = byBase.get(i);
            if (cur.memoryBase() < prev.memoryEnd()) {
                throw new IllegalArgumentException("memory of NUMA nodes " + prev.id() + " and " + cur.id() + " overlaps; give each node its own range");
            }
        }
    }
}
