package dev.jkvm.it.acpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.klib.kernel.acpi.Acpi;
import dev.jkvm.klib.kernel.acpi.Fadt;
import dev.jkvm.klib.kernel.acpi.GenericAddress;
import dev.jkvm.klib.kernel.acpi.SleepPackage;
import dev.jkvm.klib.kernel.acpi.SoftOff;
import dev.jkvm.klib.kernel.acpi.Topology;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.HostArena;
import dev.jkvm.klib.rt.Port;
import dev.jkvm.vmm.acpi.AcpiConfig;
import dev.jkvm.vmm.acpi.AcpiPmDevice;
import dev.jkvm.vmm.acpi.AcpiPmPorts;
import dev.jkvm.vmm.acpi.AcpiTables;
import dev.jkvm.vmm.memory.GuestMemory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The kernel's soft-off reads the FADT and DSDT our VMM installs today (not a captured copy),
 * chooses the PM1a control register the VMM implements, and the value it writes there makes the
 * VMM's own PM device power the machine off.
 */
class VmmSoftOffTest {
    private static final long RAM = 2L << 20;

    @Test
    void theKernelsS5RequestPowersTheVmmsPmDeviceOff() {
        try (Arena arena = HostArena.ofConfined()) {
            MemorySegment ram = arena.allocate(RAM, 4096);
            GuestMemory memory = new GuestMemory();
            memory.addRegion(0, ram);
            AcpiTables.install(memory, AcpiConfig.forCpus(2));
            long t = arena.allocate(Topology.bytesNeeded(8, 2, 8, 4), 16).address();
            Topology.format(t, 8, 2, 8, 4);
            Acpi.discover(ram.address(), RAM, 0, t);

            Console.hostClear();
            assertEquals(SoftOff.PM1_CONTROL, SoftOff.prepare(), Console.hostOutput());
            assertEquals(GenericAddress.SPACE_IO, Fadt.pm1aControlSpace());
            assertEquals(AcpiPmPorts.PM1A_CNT_BLK, Fadt.pm1aControlAddress());
            assertEquals(GenericAddress.SPACE_NONE, Fadt.pm1bControlSpace());
            assertEquals(AcpiPmPorts.SLP_TYP_S5, SleepPackage.typeA());

            AtomicInteger powerOffs = new AtomicInteger();
            AcpiPmDevice pm = new AcpiPmDevice(powerOffs::incrementAndGet, () -> { });
            Port.hostPorts().clear();
            Port.hostPorts().put(AcpiPmPorts.PM1A_CNT_BLK, pm.read(AcpiPmPorts.PM1A_CNT_BLK, 2));
            SoftOff.request();
            int written = Port.hostPorts().get(AcpiPmPorts.PM1A_CNT_BLK);
            assertTrue((written & AcpiPmPorts.SLP_EN) != 0, "SLP_EN set in " + Integer.toHexString(written));
            pm.write(AcpiPmPorts.PM1A_CNT_BLK, 2, written);
            assertEquals(1, powerOffs.get(), "the VMM's PM device powered off");
        }
    }
}
