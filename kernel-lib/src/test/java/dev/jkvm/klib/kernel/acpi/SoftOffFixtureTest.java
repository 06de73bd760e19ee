package dev.jkvm.klib.kernel.acpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Port;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Soft-off on real table sets — our VMM's FADT and DSDT, QEMU 7.2's SeaBIOS tables for q35 and
 * pc, and QEMU's microvm tables (hardware-reduced) — against what iasl decodes from the same
 * bytes: the FADT fields, the register the specification says to use, every \_Sx package's
 * values, and the values written to the simulated ports.
 */
class SoftOffFixtureTest {
    private static final String FIXTURES = """
            jkvm-smp1,         4194304
            jkvm-smp8,         4194304
            qemu-q35-smp4,     33554432
            qemu-pc-smp4,      33554432
            qemu-microvm-smp2, 33554432
            """;

    @BeforeEach
    void clearPorts() {
        Port.hostPorts().clear();
    }

    private static void discover(PhysicalImage image) {
        DiscoveredTopology topology = DiscoveredTopology.discover(image, 0);
        assertEquals(image.rsdp(), Acpi.rsdpAddress(), topology.log());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void fadtFieldsMatchIasl(String fixture, long ramSize) throws Exception {
        assumeTrue(IaslSoftOff.available(), "iasl (Debian package acpica-tools) is not installed");
        try (PhysicalImage image = PhysicalImage.fixture(fixture, ramSize)) {
            discover(image);
            IaslSoftOff.FadtFields oracle = IaslSoftOff.fadt(image.tableBytes("FACP"));
            long fadt = Acpi.findTable(Signature.FADT);
            assertEquals(image.table("FACP"), fadt);
            assertTrue(Fadt.parse(fadt));

            assertEquals(oracle.dsdt(), Fadt.dsdt(), "DSDT address");
            assertEquals(oracle.hardwareReduced(), Fadt.isHardwareReduced(), "HW_REDUCED_ACPI");
            assertEquals(oracle.smiCommand(), Fadt.smiCommand(), "SMI_CMD");
            assertEquals(oracle.acpiEnable(), Fadt.acpiEnable(), "ACPI_ENABLE");
            assertRegister(oracle.pm1aControl(), Fadt.pm1aControlSpace(), Fadt.pm1aControlAddress(), "PM1a_CNT");
            assertRegister(oracle.pm1bControl(), Fadt.pm1bControlSpace(), Fadt.pm1bControlAddress(), "PM1b_CNT");
            assertRegister(oracle.sleepControl(), Fadt.sleepControlSpace(), Fadt.sleepControlAddress(), "SLEEP_CONTROL_REG");
        }
    }

    private static void assertRegister(IaslSoftOff.Register expected, int space, long address, String what) {
        if (expected == null) {
            assertEquals(GenericAddress.SPACE_NONE, space, what + " should be absent");
        } else {
            assertEquals(expected.space(), space, what + " address space");
            assertEquals(expected.address(), address, what + " address");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void everySleepPackageMatchesIasl(String fixture, long ramSize) throws Exception {
        assumeTrue(IaslSoftOff.available(), "iasl (Debian package acpica-tools) is not installed");
        try (PhysicalImage image = PhysicalImage.fixture(fixture, ramSize)) {
            discover(image);
            long dsdt = IaslSoftOff.fadt(image.tableBytes("FACP")).dsdt();
            Map<String, List<Long>> packages = IaslSoftOff.sleepPackages(image.read(dsdt, (int) image.length(dsdt)));
            assertTrue(packages.containsKey("_S5"), "iasl finds \\_S5 in " + fixture + ": " + packages);
            for (Map.Entry<String, List<Long>> p : packages.entrySet()) {
                String name = p.getKey() + "_";
                int segment = Signature.of(name.charAt(0), name.charAt(1), name.charAt(2), name.charAt(3));
                assertEquals(SleepPackage.FOUND, SleepPackage.find(dsdt, segment), name);
                assertEquals(p.getValue().get(0), SleepPackage.typeA(), name + " SLP_TYPa");
                assertEquals(p.getValue().get(1), SleepPackage.typeB(), name + " SLP_TYPb");
            }
            int absent = Signature.of('_', 'S', '9', '_');
            assertEquals(SleepPackage.NOT_FOUND, SleepPackage.find(dsdt, absent));
        }
    }

    /**
     * The whole request on the host's simulated ports: PM1a_CNT gets \_S5's SLP_TYPa with SLP_EN
     * and keeps its other bits (SCI_EN here). On microvm the register is memory-mapped, which the
     * host cannot simulate, so only the chosen path is checked there.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = FIXTURES)
    void prepareChoosesTheRegisterAndRequestWritesS5(String fixture, long ramSize) throws Exception {
        assumeTrue(IaslSoftOff.available(), "iasl (Debian package acpica-tools) is not installed");
        try (PhysicalImage image = PhysicalImage.fixture(fixture, ramSize)) {
            discover(image);
            IaslSoftOff.FadtFields oracle = IaslSoftOff.fadt(image.tableBytes("FACP"));
            List<Long> s5 = IaslSoftOff.sleepPackages(image.read(oracle.dsdt(), (int) image.length(oracle.dsdt()))).get("_S5");
            Console.hostClear();
            int path = SoftOff.prepare();
            assertEquals("", Console.hostOutput(), "sound tables print nothing");
            if (oracle.hardwareReduced()) {
                assertEquals(SoftOff.SLEEP_CONTROL, path);
                assertEquals(oracle.sleepControl().address(), Fadt.sleepControlAddress());
                return;
            }
            assertEquals(SoftOff.PM1_CONTROL, path);
            assertNotNull(oracle.pm1aControl());
            assertEquals(GenericAddress.SPACE_IO, oracle.pm1aControl().space());
            int port = (int) oracle.pm1aControl().address();
            int sciEn = 1;
            Port.hostPorts().put(port, sciEn);
            SoftOff.request();
            int slpEn = 1 << 13;
            assertEquals((int) (s5.get(0) << 10) | slpEn | sciEn, Port.hostPorts().get(port), "PM1a_CNT written");
            assertFalse(Port.hostPorts().containsKey((int) oracle.smiCommand()), "no ACPI_ENABLE while SCI_EN is set");
        }
    }

    /**
     * SeaBIOS leaves the hardware in legacy mode (SCI_EN clear): OSPM first writes ACPI_ENABLE to
     * SMI_CMD (§5.2.9). The simulated SCI_EN never comes on, so the bounded wait runs out and the
     * request goes ahead anyway.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"qemu-q35-smp4, 33554432", "qemu-pc-smp4, 33554432"})
    void legacyModeIsLeftThroughSmiCommandFirst(String fixture, long ramSize) throws Exception {
        assumeTrue(IaslSoftOff.available(), "iasl (Debian package acpica-tools) is not installed");
        try (PhysicalImage image = PhysicalImage.fixture(fixture, ramSize)) {
            discover(image);
            IaslSoftOff.FadtFields oracle = IaslSoftOff.fadt(image.tableBytes("FACP"));
            assertTrue(oracle.smiCommand() != 0 && oracle.acpiEnable() != 0, "the fixture has an SMI command port");
            assertEquals(SoftOff.PM1_CONTROL, SoftOff.prepare());
            int port = (int) oracle.pm1aControl().address();
            Port.hostPorts().put(port, 0);
            SoftOff.request();
            assertEquals(oracle.acpiEnable(), Port.hostPorts().get((int) oracle.smiCommand()), "ACPI_ENABLE written to SMI_CMD");
            assertEquals(1 << 13, Port.hostPorts().get(port) & ~(7 << 10), "SLP_EN written, other bits kept clear");
        }
    }

    /**
     * powerOff prints the path and writes the request; on the host nothing stops, so it waits,
     * says so and returns, as it would on a machine that ignored the write.
     */
    @Test
    void powerOffNamesThePathAndReturnsWhenTheMachineKeepsRunning() throws Exception {
        assumeTrue(IaslSoftOff.available(), "iasl (Debian package acpica-tools) is not installed");
        try (PhysicalImage image = PhysicalImage.fixture("jkvm-smp8", 4194304)) {
            discover(image);
            IaslSoftOff.FadtFields oracle = IaslSoftOff.fadt(image.tableBytes("FACP"));
            long s5 = IaslSoftOff.sleepPackages(image.read(oracle.dsdt(), (int) image.length(oracle.dsdt()))).get("_S5").get(0);
            assertEquals(SoftOff.PM1_CONTROL, SoftOff.prepare());
            Port.hostPorts().put((int) oracle.pm1aControl().address(), 1);
            Console.hostClear();
            SoftOff.powerOff();
            assertEquals(List.of(String.format("power: ACPI S5 soft-off through PM1a_CNT at I/O port 0x%016x, SLP_TYP %d",
                            oracle.pm1aControl().address(), s5),
                    "power: the machine still runs 1 s after the S5 request; falling back to isa-debug-exit"),
                    Console.hostOutput().lines().toList());
        }
    }

    /** Without an RSDP (QEMU microvm with acpi=off) there is no path: one line, nothing written. */
    @Test
    void powerOffWithoutAcpiSaysSoAndReturnsAtOnce() {
        try (PhysicalImage image = PhysicalImage.fixture("jkvm-smp8", 4194304)) {
            image.write(image.rsdp(), "NOT PTR ".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            DiscoveredTopology.discover(image, 0);
            assertEquals(SoftOff.UNAVAILABLE, SoftOff.prepare());
            Console.hostClear();
            SoftOff.powerOff();
            assertEquals(List.of("power: no ACPI S5 soft-off (no valid FADT); exiting through isa-debug-exit"),
                    Console.hostOutput().lines().toList());
            assertEquals(Map.of(), Port.hostPorts());
        }
    }
}
