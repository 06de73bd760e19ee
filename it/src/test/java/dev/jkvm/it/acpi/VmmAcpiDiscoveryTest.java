package dev.jkvm.it.acpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.klib.kernel.acpi.Acpi;
import dev.jkvm.klib.kernel.acpi.Outcome;
import dev.jkvm.klib.kernel.acpi.Signature;
import dev.jkvm.klib.kernel.acpi.Topology;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.HostArena;
import dev.jkvm.vmm.acpi.AcpiConfig;
import dev.jkvm.vmm.acpi.AcpiTables;
import dev.jkvm.vmm.memory.GuestLayout;
import dev.jkvm.vmm.memory.GuestMemory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The kernel's ACPI discovery reads the tables our VMM installs, and finds exactly the machine
 * the VMM was configured with (AcpiConfig is the expectation, not the parser's own output).
 */
class VmmAcpiDiscoveryTest {
    /** Low memory the VMM's tables live in (they sit in the 0xE0000–0xFFFFF BIOS area). */
    private static final long RAM = 2L << 20;
    private static final int CPU_CAPACITY = 1024;

    @ParameterizedTest(name = "{0} CPUs")
    @ValueSource(ints = {1, 2, 8, 255, 300})
    void discoversTheConfiguredMachine(int cpus) {
        AcpiConfig cfg = AcpiConfig.forCpus(cpus);
        try (Arena arena = HostArena.ofConfined()) {
            MemorySegment ram = arena.allocate(RAM, 4096);
            GuestMemory memory = new GuestMemory();
            memory.addRegion(0, ram);
            long rsdpAt = AcpiTables.install(memory, cfg);
            MemorySegment topology = arena.allocate(Topology.bytesNeeded(CPU_CAPACITY, 8, 32, 16), 16);
            long t = topology.address();
            Topology.format(t, CPU_CAPACITY, 8, 32, 16);

            Console.hostClear();
            int outcome = Acpi.discover(ram.address(), RAM, cfg.apicIds().getFirst(), t);
            String log = Console.hostOutput();

            assertEquals(rsdpAt, Acpi.rsdpAddress());
            assertEquals(cpus == 1 ? Outcome.UNIPROCESSOR : Outcome.SMP, outcome, log);
            assertEquals(cpus == 1 ? "acpi: MADT lists no enabled processor besides the boot CPU; booting uniprocessor\n" : "",
                    log);
            assertEquals(cpus, Topology.cpuCount(t));
            assertEquals(cpus, Topology.enabledCpuCount(t));
            assertEquals(0, Topology.unusableCpuCount(t) + Topology.droppedCount(t) + Topology.unknownEntryCount(t));
            for (int i = 0; i < cpus; i++) {
                // VMM CPU i has ACPI UID i and is listed in UID order with the BSP first.
                assertEquals(cfg.apicIds().get(i), Topology.cpuApicId(t, i), "APIC ID of cpu " + i);
                assertEquals(i, Topology.cpuAcpiUid(t, i), "UID of cpu " + i);
                assertTrue(Topology.cpuIsEnabled(t, i));
                assertEquals(i == 0, Topology.cpuIsBsp(t, i));
                assertEquals(cfg.isX2apicOnly(i), (Topology.cpuFlags(t, i) & Topology.CPU_X2APIC_ENTRY) != 0,
                        "x2APIC entry for cpu " + i);
                assertEquals(i, Topology.cpuIndexOfApicId(t, cfg.apicIds().get(i)));
            }
            assertEquals(cfg.lapicBase(), Topology.lapicAddress(t));
            assertEquals(1, Topology.ioApicCount(t));
            assertEquals(cfg.ioapicId(), Topology.ioApicId(t, 0));
            assertEquals(cfg.ioapicBase(), Topology.ioApicMmio(t, 0));
            assertEquals(0, Topology.ioApicGsiBase(t, 0));
            // The PC wiring the VMM promises: PIT (IRQ 0) on GSI 2, the SCI (IRQ 9) level-triggered.
            assertEquals(2, Topology.gsiOfIsaIrq(t, 0));
            assertEquals(9, Topology.gsiOfIsaIrq(t, 9));
            assertEquals(4, Topology.gsiOfIsaIrq(t, 4));
            // NMI on LINT1 of every processor, once per entry kind the table needs.
            Set<Integer> lints = new HashSet<>();
            for (int i = 0; i < Topology.nmiCount(t); i++) {
                assertEquals(Topology.NMI_LOCAL_APIC, Topology.nmiKind(t, i));
                assertEquals(Topology.UID_ALL_PROCESSORS, Topology.nmiTarget(t, i));
                lints.add(Topology.nmiLint(t, i));
            }
            assertEquals(Set.of(1), lints);
            assertEquals(cpus > 255 ? 2 : 1, Topology.nmiCount(t));
            assertTrue(Acpi.findTable(Signature.FADT) > 0, "FADT listed next to the MADT");
        }
    }

    @Test
    void everyMadtEntryTheVmmEmitsIsInterpretedNotSkipped() {
        AcpiConfig cfg = AcpiConfig.forCpus(300);
        try (Arena arena = HostArena.ofConfined()) {
            MemorySegment ram = arena.allocate(RAM, 4096);
            GuestMemory memory = new GuestMemory();
            memory.addRegion(0, ram);
            AcpiTables.install(memory, cfg);
            long t = arena.allocate(Topology.bytesNeeded(512, 4, 16, 8), 16).address();
            Topology.format(t, 512, 4, 16, 8);
            Acpi.discover(ram.address(), RAM, 0, t);
            assertEquals(0, Topology.unknownEntryCount(t));
        }
    }

    /**
     * The VMM tables kernel-lib's tests use as fixtures (it cannot depend on vmm) still describe
     * what the VMM builds today: discovery reads the same topology from both.
     */
    @ParameterizedTest(name = "{0} CPUs")
    @ValueSource(ints = {1, 2, 8, 255, 300})
    void committedFixturesDescribeTheCurrentVmm(int cpus) throws IOException {
        Path fixture = Path.of("../kernel-lib/src/test/resources/acpi/jkvm-smp" + cpus,
                String.format("mem-%08x.bin", GuestLayout.ACPI_BASE));
        try (Arena arena = HostArena.ofConfined()) {
            MemorySegment live = arena.allocate(RAM, 4096);
            GuestMemory memory = new GuestMemory();
            memory.addRegion(0, live);
            AcpiTables.install(memory, AcpiConfig.forCpus(cpus));
            MemorySegment committed = arena.allocate(RAM, 4096);
            MemorySegment.copy(MemorySegment.ofArray(Files.readAllBytes(fixture)), 0, committed, GuestLayout.ACPI_BASE,
                    Files.size(fixture));
            assertEquals(describe(arena, live), describe(arena, committed),
                    "fixtures are stale: regenerate them with exportFixtures (see its comment)");
        }
    }

    private static String describe(Arena arena, MemorySegment ram) {
        long t = arena.allocate(Topology.bytesNeeded(CPU_CAPACITY, 8, 32, 16), 16).address();
        Topology.format(t, CPU_CAPACITY, 8, 32, 16);
        StringBuilder text = new StringBuilder("outcome " + Acpi.discover(ram.address(), RAM, 0, t));
        text.append(" defects ").append(Topology.defects(t)).append(" lapic ").append(Topology.lapicAddress(t));
        for (int i = 0; i < Topology.cpuCount(t); i++) {
            text.append("\ncpu ").append(Topology.cpuApicId(t, i)).append(' ').append(Topology.cpuAcpiUid(t, i))
                    .append(' ').append(Topology.cpuFlags(t, i));
        }
        for (int i = 0; i < Topology.ioApicCount(t); i++) {
            text.append("\nioapic ").append(Topology.ioApicId(t, i)).append(' ').append(Topology.ioApicMmio(t, i))
                    .append(' ').append(Topology.ioApicGsiBase(t, i));
        }
        for (int i = 0; i < Topology.overrideCount(t); i++) {
            text.append("\noverride ").append(Topology.overrideSourceIrq(t, i)).append(' ')
                    .append(Topology.overrideGsi(t, i)).append(' ').append(Topology.overrideFlags(t, i));
        }
        for (int i = 0; i < Topology.nmiCount(t); i++) {
            text.append("\nnmi ").append(Topology.nmiKind(t, i)).append(' ').append(Topology.nmiTarget(t, i))
                    .append(' ').append(Topology.nmiLint(t, i)).append(' ').append(Topology.nmiFlags(t, i));
        }
        return text.toString();
    }

    /**
     * Writes the VMM's tables as test fixtures for kernel-lib (which must not depend on vmm):
     * mvn -pl it -am test -Dtest=VmmAcpiDiscoveryTest#exportFixtures -Dsurefire.failIfNoSpecifiedTests=false
     *     -Djkvm.acpi.exportTo=$PWD/kernel-lib/src/test/resources/acpi
     */
    @Test
    @EnabledIfSystemProperty(named = "jkvm.acpi.exportTo", matches = ".+")
    void exportFixtures() throws IOException {
        Path root = Path.of(System.getProperty("jkvm.acpi.exportTo"));
        for (int cpus : new int[] {1, 2, 8, 255, 300}) {
            try (Arena arena = HostArena.ofConfined()) {
                MemorySegment ram = arena.allocate(RAM, 4096);
                GuestMemory memory = new GuestMemory();
                memory.addRegion(0, ram);
                AcpiTables.install(memory, AcpiConfig.forCpus(cpus));
                Path dir = Files.createDirectories(root.resolve("jkvm-smp" + cpus));
                byte[] window = ram.asSlice(GuestLayout.ACPI_BASE, GuestLayout.ACPI_END - GuestLayout.ACPI_BASE)
                        .toArray(ValueLayout.JAVA_BYTE);
                Files.write(dir.resolve(String.format("mem-%08x.bin", GuestLayout.ACPI_BASE)), trimZeros(window));
            }
        }
    }

    /** Trailing zeros are what an unwritten buffer holds anyway; dropping them keeps fixtures small. */
    private static byte[] trimZeros(byte[] bytes) {
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] == 0) {
            end--;
        }
        return java.util.Arrays.copyOf(bytes, end);
    }
}
