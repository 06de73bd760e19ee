package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.HostArena;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/** A Topology read back into Java values, so tests can compare whole topologies. */
record DiscoveredTopology(int outcome, int defects, long lapicAddress, int madtFlags, List<Cpu> cpus,
        List<IoApic> ioApics, List<Override> overrides, List<Nmi> nmis, int unusableCpus, int dropped, String log) {

    record Cpu(int apicId, int acpiUid, int flags) {}

    record IoApic(int id, long address, int gsiBase) {}

    record Override(int bus, int sourceIrq, int gsi, int flags) {}

    record Nmi(int kind, int target, int flags, int lint) {}

    static DiscoveredTopology discover(PhysicalImage image, int bspApicId) {
        return discover(image, bspApicId, 1024, 16, 32, 16);
    }

    static DiscoveredTopology discover(PhysicalImage image, int bspApicId, int cpuCapacity, int ioApicCapacity,
            int overrideCapacity, int nmiCapacity) {
        try (Arena arena = HostArena.ofConfined()) {
            long t = arena.allocate(Topology.bytesNeeded(cpuCapacity, ioApicCapacity, overrideCapacity, nmiCapacity), 16)
                    .address();
            Topology.format(t, cpuCapacity, ioApicCapacity, overrideCapacity, nmiCapacity);
            Console.hostClear();
            int outcome = Acpi.discover(image.base(), image.size(), bspApicId, t);
            String log = Console.hostOutput();
            if (outcome != Topology.outcome(t)) {
                throw new AssertionError("discover returned " + outcome + " but stored " + Topology.outcome(t));
            }
            List<Cpu> cpus = new ArrayList<>();
            for (int i = 0; i < Topology.cpuCount(t); i++) {
                cpus.add(new Cpu(Topology.cpuApicId(t, i), Topology.cpuAcpiUid(t, i), Topology.cpuFlags(t, i)));
            }
            List<IoApic> ioApics = new ArrayList<>();
            for (int i = 0; i < Topology.ioApicCount(t); i++) {
                ioApics.add(new IoApic(Topology.ioApicId(t, i), Topology.ioApicMmio(t, i), Topology.ioApicGsiBase(t, i)));
            }
            List<Override> overrides = new ArrayList<>();
            for (int i = 0; i < Topology.overrideCount(t); i++) {
                overrides.add(new Override(Topology.overrideBus(t, i), Topology.overrideSourceIrq(t, i),
                        Topology.overrideGsi(t, i), Topology.overrideFlags(t, i)));
            }
            List<Nmi> nmis = new ArrayList<>();
            for (int i = 0; i < Topology.nmiCount(t); i++) {
                nmis.add(new Nmi(Topology.nmiKind(t, i), Topology.nmiTarget(t, i), Topology.nmiFlags(t, i),
                        Topology.nmiLint(t, i)));
            }
            return new DiscoveredTopology(outcome, Topology.defects(t), Topology.lapicAddress(t), Topology.madtFlags(t),
                    cpus, ioApics, overrides, nmis, Topology.unusableCpuCount(t), Topology.droppedCount(t), log);
        }
    }

    List<Integer> apicIds() {
        return cpus.stream().map(Cpu::apicId).toList();
    }

    /** Everything but the console log: what "the same topology" means. */
    DiscoveredTopology withoutLog() {
        return new DiscoveredTopology(outcome, defects, lapicAddress, madtFlags, cpus, ioApics, overrides, nmis,
                unusableCpus, dropped, "");
    }
}
