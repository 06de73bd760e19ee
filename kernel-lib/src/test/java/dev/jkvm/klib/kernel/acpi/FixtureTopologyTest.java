package dev.jkvm.klib.kernel.acpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Discovery on real table sets — our VMM's (exported by it/VmmAcpiDiscoveryTest) and QEMU 7.2's
 * SeaBIOS tables (captured by capture-qemu.sh) — matches what ACPICA's disassembler reads from
 * the same MADT bytes, and the machine each was made for.
 */
class FixtureTopologyTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "jkvm-smp1,   4194304,  1, true",
        "jkvm-smp2,   4194304,  2, true",
        "jkvm-smp8,   4194304,  8, true",
        "jkvm-smp255, 4194304, 255, true",
        "jkvm-smp300, 4194304, 300, true",
        "qemu-q35-smp4, 33554432, 4, false",
        "qemu-pc-smp4,  33554432, 4, false",
    })
    void topologyMatchesIaslAndTheMachine(String fixture, long ramSize, int cpus, boolean hasXsdt) throws Exception {
        assumeTrue(IaslMadt.available(), "iasl (Debian package acpica-tools) is not installed");
        try (PhysicalImage image = PhysicalImage.fixture(fixture, ramSize)) {
            DiscoveredTopology found = DiscoveredTopology.discover(image, 0);
            DiscoveredTopology oracle = IaslMadt.expected(IaslMadt.decode(image.tableBytes("APIC")), 0);

            assertEquals(image.rsdp(), Acpi.rsdpAddress());
            assertEquals(hasXsdt, RootTable.isXsdt(), "XSDT used exactly when the RSDP is revision 2");
            assertEquals(image.table("APIC"), Acpi.findTable(Signature.MADT));
            assertEquals(oracle.cpus(), found.cpus());
            assertEquals(oracle.ioApics(), found.ioApics());
            assertEquals(oracle.overrides(), found.overrides());
            assertEquals(oracle.nmis(), found.nmis());
            assertEquals(oracle.lapicAddress(), found.lapicAddress());
            assertEquals(oracle.madtFlags(), found.madtFlags());
            assertEquals(oracle.unusableCpus(), found.unusableCpus());

            // The machine the tables were made for: APIC IDs 0..n-1, all enabled, one I/O APIC.
            assertEquals(IntStream.range(0, cpus).boxed().toList(), found.apicIds());
            assertTrue(found.cpus().stream().allMatch(c -> (c.flags() & Topology.CPU_ENABLED) != 0));
            assertEquals(1, found.ioApics().size());
            assertEquals(0xFEE00000L, found.lapicAddress());
            assertEquals(cpus == 1 ? Outcome.UNIPROCESSOR : Outcome.SMP, found.outcome(), found.log());
            assertEquals(cpus == 1 ? Defect.NO_ENABLED_AP : 0, found.defects(), found.log());
            assertEquals(cpus == 1 ? List.of("acpi: MADT lists no enabled processor besides the boot CPU; booting uniprocessor")
                    : List.of(), found.log().lines().toList());
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"jkvm-smp8, 4194304", "qemu-q35-smp4, 33554432"})
    void anotherBootCpuComesFirstAndTheRestKeepTableOrder(String fixture, long ramSize) {
        try (PhysicalImage image = PhysicalImage.fixture(fixture, ramSize)) {
            DiscoveredTopology found = DiscoveredTopology.discover(image, 3);
            assertEquals(3, found.cpus().getFirst().apicId());
            assertTrue((found.cpus().getFirst().flags() & Topology.CPU_BSP) != 0);
            assertEquals(3, found.cpus().getFirst().acpiUid(), "both tables give CPU n the UID n");
            List<Integer> rest = found.apicIds().subList(1, found.cpus().size());
            assertFalse(rest.contains(3));
            assertEquals(rest.stream().sorted().toList(), rest);
            assertEquals(Outcome.SMP, found.outcome(), found.log());
        }
    }
}
