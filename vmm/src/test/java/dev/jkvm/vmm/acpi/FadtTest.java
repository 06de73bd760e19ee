package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.memory.GuestLayout;
import dev.jkvm.vmm.memory.GuestMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The FADT and FACS as ACPICA reads them: iasl's disassembly for the fields, and acpiexec,
 * which runs the FADT validation Linux runs at boot (tbfadt.c) and complains about any
 * inconsistency between the 32-bit blocks and their X_ Generic Address twins.
 */
class FadtTest {
    @TempDir
    Path dir;

    @Test
    void fieldsAsIaslDecodesThem() {
        try (Arena arena = Arena.ofConfined()) {
            GuestMemory mem = new GuestMemory();
            mem.addRegion(0, arena.allocate(1 << 20));
            AcpiTables.install(mem, AcpiConfig.forCpus(2));
            long fadtAt = mem.read64(mem.read64(GuestLayout.ACPI_BASE + 24) + 36);
            byte[] fadt = mem.read(fadtAt, mem.read32(fadtAt + 4));

            Dsl dsl = Acpica.disassemble(dir, "facp", fadt);
            assertEquals(List.of(), dsl.complaints());
            assertEquals("\"FACP\"", dsl.first("Signature").token());
            assertEquals(0x114, dsl.first("Table Length").hex(), "ACPI 6.5 FADT is 276 bytes");
            assertEquals(6, dsl.first("Revision").hex());
            assertEquals(5, dsl.first("FADT Minor Revision").hex());

            List<Dsl.Field> dsdt = dsl.all("DSDT Address");
            assertEquals(2, dsdt.size(), "DSDT and X_DSDT");
            assertEquals(dsdt.get(0).hex(), dsdt.get(1).hex());
            assertEquals("DSDT", signatureAt(mem, dsdt.get(0).hex()));
            List<Dsl.Field> facs = dsl.all("FACS Address");
            assertEquals("FACS", signatureAt(mem, facs.get(0).hex()));
            assertEquals(0, facs.get(1).hex(), "X_FIRMWARE_CTRL stays zero when FIRMWARE_CTRL is used");

            assertEquals(9, dsl.first("SCI Interrupt").hex());
            assertEquals(0, dsl.first("SMI Command Port").hex(), "always in ACPI mode");
            assertEquals(AcpiPmPorts.PM1A_EVT_BLK, dsl.first("PM1A Event Block Address").hex());
            assertEquals(AcpiPmPorts.PM1A_CNT_BLK, dsl.first("PM1A Control Block Address").hex());
            assertEquals(AcpiPmPorts.PM_TMR_BLK, dsl.first("PM Timer Block Address").hex());
            assertEquals(4, dsl.first("PM1 Event Block Length").hex());
            assertEquals(2, dsl.first("PM1 Control Block Length").hex());
            assertEquals(4, dsl.first("PM Timer Block Length").hex());

            assertEquals(1, dsl.decodedBit("Legacy Devices Supported (V2)"));
            assertEquals(0, dsl.decodedBit("8042 Present on ports 60/64 (V2)"));
            assertEquals(1, dsl.decodedBit("VGA Not Present (V4)"));
            assertEquals(0, dsl.decodedBit("CMOS RTC Not Present (V5)"));

            assertEquals(1, dsl.decodedBit("WBINVD instruction is operational (V1)"));
            assertEquals(1, dsl.decodedBit("All CPUs support C1 (V1)"));
            assertEquals(1, dsl.decodedBit("Control Method Power Button (V1)"));
            assertEquals(1, dsl.decodedBit("Control Method Sleep Button (V1)"));
            assertEquals(1, dsl.decodedBit("Reset Register Supported (V2)"));
            assertEquals(0, dsl.decodedBit("32-bit PM Timer (V1)"));
            assertEquals(0, dsl.decodedBit("Hardware Reduced (V5)"));

            // Generic Address Structures in order: reset register, X_PM1a_EVT, X_PM1b_EVT, X_PM1a_CNT, ...
            List<Dsl.Field> addresses = dsl.all("Address");
            List<Dsl.Field> spaces = dsl.all("Space ID");
            assertEquals(0xCF9, addresses.get(0).hex());
            assertEquals(1, spaces.get(0).hex(), "reset register is in I/O space");
            assertEquals(6, dsl.first("Value to cause reset").hex());
            assertEquals(AcpiPmPorts.PM1A_EVT_BLK, addresses.get(1).hex());
            assertEquals(AcpiPmPorts.PM1A_CNT_BLK, addresses.get(3).hex());
            assertEquals(AcpiPmPorts.PM_TMR_BLK, addresses.get(6).hex());
            assertEquals(1, spaces.get(1).hex());
            assertEquals(1, spaces.get(3).hex());
            assertEquals(1, spaces.get(6).hex());

            Dsl facsDsl = Acpica.disassemble(dir, "facs", mem.read(facs.get(0).hex(), 64));
            assertEquals(List.of(), facsDsl.complaints());
            assertEquals(0x40, facsDsl.first("Length").hex());
            assertEquals(2, facsDsl.first("Version").hex());
        }
    }

    @Test
    void acpicaAcceptsTheFadtAndReadsOurS5SleepType() {
        Map<String, byte[]> t = AcpiTables.build(AcpiConfig.forCpus(2), GuestLayout.ACPI_BASE);
        Acpica.write(dir, "facp.dat", t.get("FACP"));
        Acpica.write(dir, "dsdt.dat", t.get("DSDT"));
        Acpica.write(dir, "facs.dat", t.get("FACS"));
        Acpica.Result r = Acpica.run(dir, "acpiexec", "-b", "evaluate \\_S5", "facp.dat", "dsdt.dat", "facs.dat");
        assertEquals(List.of(), firmwareComplaints(r.output()), r.output());
        assertTrue(r.output().contains("ACPI: FACP") && r.output().contains("JKVMFACP"), "acpiexec used our FADT:\n" + r.output());
        assertTrue(r.output().matches("(?s).*Contains 4 Elements:\\s+\\[Integer\\] = 0+5\\s.*"), "S5 SLP_TYP from our \\_S5:\n" + r.output());
    }

    /** The oracle itself: a PM1a event block whose X_ twin disagrees in width must be reported. */
    @Test
    void acpicaNoticesAnInconsistentFadt() {
        byte[] fadt = AcpiTables.build(AcpiConfig.forCpus(2), GuestLayout.ACPI_BASE).get("FACP").clone();
        fadt[149] = 16; // X_PM1a_EVT_BLK bit width (offset 148 + 1): 16 instead of 32
        AcpiChecksum.fix(fadt, 0, fadt.length, 9);
        Acpica.write(dir, "facp.dat", fadt);
        Map<String, byte[]> t = AcpiTables.build(AcpiConfig.forCpus(2), GuestLayout.ACPI_BASE);
        Acpica.write(dir, "dsdt.dat", t.get("DSDT"));
        Acpica.write(dir, "facs.dat", t.get("FACS"));
        Acpica.Result r = Acpica.run(dir, "acpiexec", "-b", "evaluate \\_S5", "facp.dat", "dsdt.dat", "facs.dat");
        List<String> complaints = firmwareComplaints(r.output());
        assertFalse(complaints.isEmpty(), r.output());
        assertTrue(complaints.stream().allMatch(l -> l.contains("Pm1aEventBlock")), complaints.toString());
    }

    /**
     * ACPICA's own diagnostics. acpiexec's built-in self tests also poke PM2 (absent here) and
     * GPE blocks (absent) and report those as "Unexpected AE_..." lines, which are not about
     * the tables' consistency.
     */
    static List<String> firmwareComplaints(String output) {
        return output.lines()
                .filter(l -> l.matches(".*(Firmware Warning|Firmware Error|ACPI Warning|ACPI Error|ACPI Exception|Incorrect checksum).*"))
                .toList();
    }

    private static String signatureAt(GuestMemory mem, long gpa) {
        return new String(mem.read(gpa, 4), StandardCharsets.US_ASCII);
    }
}
