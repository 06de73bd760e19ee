package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.devices.PortIoBus;
import dev.jkvm.vmm.memory.GuestLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The fixed ACPI hardware (ACPI 6.5 §4.8.3) behind the ports the FADT advertises. */
class AcpiPmDeviceTest {
    @TempDir
    Path dir;

    private final AtomicInteger powerOffs = new AtomicInteger();
    private final AtomicInteger resets = new AtomicInteger();
    private final AtomicLong nanos = new AtomicLong(1_000_000);
    private final AcpiPmDevice device = new AcpiPmDevice(powerOffs::incrementAndGet, resets::incrementAndGet, nanos::get);
    private final PortIoBus bus = new PortIoBus();

    AcpiPmDeviceTest() {
        bus.register(AcpiPmPorts.PM_BASE, AcpiPmPorts.PM_LENGTH, device);
        bus.register(AcpiPmPorts.RESET_PORT, 1, device);
    }

    // §4.8.3.2.1 PM1 control: SLP_TYPx in bits 12:10, SLP_EN in bit 13, SCI_EN in bit 0.
    private static int sleepRequest(int slpTyp) { return slpTyp << 10 | 1 << 13; }

    @Test
    void s5SleepRequestPowersOff() {
        bus.write(0x604, 2, sleepRequest(5));
        assertEquals(1, powerOffs.get());
        assertEquals(0, resets.get());
    }

    @Test
    void otherSleepTypesAndSleepTypeWithoutEnableDoNothing() {
        for (int t = 0; t < 8; t++) if (t != 5) bus.write(0x604, 2, sleepRequest(t));
        bus.write(0x604, 2, 5 << 10);
        assertEquals(0, powerOffs.get());
        assertEquals(5 << 10 | 1, bus.read(0x604, 2), "SLP_TYP reads back, SLP_EN reads 0, SCI_EN reads 1");
    }

    @Test
    void byteWidePm1ControlWritesCombine() {
        bus.write(0x604, 1, 0x00);
        bus.write(0x605, 1, (5 << 10) >>> 8);            // SLP_TYP only
        assertEquals(0, powerOffs.get());
        bus.write(0x605, 1, sleepRequest(5) >>> 8);      // now with SLP_EN
        assertEquals(1, powerOffs.get());
    }

    @Test
    void dwordWriteSpanningControlAndTheGapStillPowersOff() {
        bus.write(0x604, 4, sleepRequest(5));
        assertEquals(1, powerOffs.get());
    }

    @Test
    void alwaysInAcpiMode() {
        assertEquals(1, bus.read(0x604, 2) & 1, "SCI_EN set: SMI_CMD is 0, so there is no mode switch");
        bus.write(0x604, 2, 0);
        assertEquals(1, bus.read(0x604, 2) & 1, "software cannot leave ACPI mode");
    }

    @Test
    void pm1EnableKeepsOnlyDefinedBits() {
        bus.write(0x602, 2, 0xFFFF);
        // §4.8.3.1.2: TMR_EN (0), GBL_EN (5), PWRBTN_EN (8), SLPBTN_EN (9), RTC_EN (10).
        assertEquals(1 | 1 << 5 | 1 << 8 | 1 << 9 | 1 << 10, bus.read(0x602, 2));
        bus.write(0x603, 1, 0);
        assertEquals(1 | 1 << 5, bus.read(0x602, 2), "a byte write touches one byte");
        assertEquals(0, bus.read(0x600, 2), "no fixed event pending");
    }

    @Test
    void pmTimerCountsAt3579545HzIn24Bits() {
        assertEquals(0, bus.read(0x608, 4));
        nanos.addAndGet(1_000_000_000L);
        assertEquals(3_579_545, bus.read(0x608, 4));
        long hour = 3_600_000_000_000L;
        nanos.addAndGet(hour - 1_000_000_000L);
        long expected = BigInteger.valueOf(hour).multiply(BigInteger.valueOf(3_579_545)).divide(BigInteger.valueOf(1_000_000_000))
                .and(BigInteger.valueOf(0xFF_FFFF)).longValue();
        assertEquals(expected, bus.read(0x608, 4), "no overflow after an hour; wraps at 2^24");
        int bytes = bus.read(0x608, 1) | bus.read(0x609, 1) << 8 | bus.read(0x60A, 1) << 16 | bus.read(0x60B, 1) << 24;
        assertEquals(expected, bytes, "byte reads see the same counter");
        bus.write(0x608, 4, 0);
        assertEquals(expected, bus.read(0x608, 4), "the timer is read-only");
    }

    @Test
    void resetControlRegister() {
        bus.write(0xCF9, 1, 0x02);
        assertEquals(0, resets.get(), "SYS_RST alone only selects the reset kind");
        assertEquals(0x02, bus.read(0xCF9, 1));
        bus.write(0xCF9, 1, AcpiPmPorts.RESET_VALUE);
        assertEquals(1, resets.get());
        assertEquals(0, powerOffs.get());
    }

    private static final Pattern WROTE = Pattern.compile("Wrote: ([0-9A-F]{16}) width (\\d+)\\s+to ([0-9A-F]{16}) \\(SystemIO\\)");

    /**
     * End to end: ACPICA (the code Linux runs) reads our FADT and DSDT and performs S5; every port
     * write it makes goes to this device, which must power off exactly once, on PM1a_CNT.
     * acpiexec stalls 10 s after the sleep write before retrying, as ACPICA does on real hardware.
     */
    @Test
    void acpicaS5SequencePowersOffThroughOurPorts() {
        Map<String, byte[]> t = AcpiTables.build(AcpiConfig.forCpus(2), GuestLayout.ACPI_BASE);
        Acpica.write(dir, "facp.dat", t.get("FACP"));
        Acpica.write(dir, "dsdt.dat", t.get("DSDT"));
        Acpica.write(dir, "facs.dat", t.get("FACS"));
        // -x 0x04000000 is ACPI_LV_IO: log every register access.
        Acpica.Result r = Acpica.run(dir, "acpiexec", "-x", "0x04000000", "-b", "sleep 5", "facp.dat", "dsdt.dat", "facs.dat");
        assertTrue(r.output().contains("Sleep-A: 05"), r.output());

        List<Integer> powerOffAfterWriteTo = new ArrayList<>();
        Matcher m = WROTE.matcher(r.output());
        int pmWrites = 0;
        while (m.find()) {
            int port = (int) Long.parseLong(m.group(3), 16);
            boolean ours = (port >= AcpiPmPorts.PM_BASE && port < AcpiPmPorts.PM_BASE + AcpiPmPorts.PM_LENGTH) || port == AcpiPmPorts.RESET_PORT;
            if (!ours) continue;
            pmWrites++;
            int before = powerOffs.get();
            bus.write(port, Integer.parseInt(m.group(2)) / 8, (int) Long.parseUnsignedLong(m.group(1), 16));
            if (powerOffs.get() != before) powerOffAfterWriteTo.add(port);
        }
        assertTrue(pmWrites > 0, "acpiexec logged no writes to our PM ports:\n" + r.output());
        assertEquals(List.of(AcpiPmPorts.PM1A_CNT_BLK), powerOffAfterWriteTo);
        assertEquals(0, resets.get());
    }
}
