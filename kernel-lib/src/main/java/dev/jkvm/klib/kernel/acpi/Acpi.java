package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.Console;

/**
 * ACPI discovery for kernel bring-up: finds the RSDP, selects the XSDT or RSDT, and turns the
 * MADT into a Topology. Never faults on bad tables (every pointer is checked against the
 * PhysicalWindow first) and never loops (every walk advances by at least two bytes or stops).
 *
 * Policy, in order (defect bits in Defect; each also printed as one "acpi: ..." line):
 *   no valid RSDP                         → UNIPROCESSOR, boot CPU only
 *   bad RSDP extended checksum/length     → use the RSDT
 *   XSDT unusable                         → use the RSDT
 *   neither root table usable             → UNIPROCESSOR, boot CPU only
 *   no valid MADT (missing, bad checksum) → UNIPROCESSOR, boot CPU only
 *   MADT does not list the boot CPU       → UNIPROCESSOR, boot CPU only
 *   entry-level defects                   → SMP_DEGRADED, offending entries ignored (see Madt)
 *   no enabled processor but the BSP      → UNIPROCESSOR, I/O APICs and overrides kept
 * "Boot CPU only" means Topology.resetToBootCpu: no I/O APIC (use the 8259s), default LAPIC
 * address; the defect bits are kept so the kernel can say why.
 */
public final class Acpi {
    private Acpi() {
    }

    public static final long NOT_FOUND = -1;

    private static long rsdp = NOT_FOUND;

    /**
     * Discovers the topology of the machine.
     *
     * @param physicalBase virtual address of physical address 0 (0 under an identity map)
     * @param physicalSize bytes of physical memory mapped there; table pointers beyond it are rejected
     * @param bspApicId    APIC ID of the CPU running this (CPUID leaf 0xB/0x1 or the LAPIC ID register)
     * @param topology     an area Topology.format has laid out
     * @return the Outcome, also stored in the topology
     */
    public static int discover(long physicalBase, long physicalSize, int bspApicId, long topology) {
        PhysicalWindow.map(physicalBase, physicalSize);
        return discoverInWindow(bspApicId, topology);
    }

    /** As discover, through the window already set up (PhysicalWindow.mapOnDemand in the kernel). */
    public static int discoverInWindow(int bspApicId, long topology) {
        Topology.resetToBootCpu(topology, bspApicId);
        rsdp = Rsdp.find();
        if (rsdp == NOT_FOUND) {
            Console.print("acpi: no valid RSDP in the EBDA or at 0xe0000-0xfffff; booting uniprocessor\n");
            return untrusted(topology, bspApicId, Defect.NO_RSDP);
        }
        if (!RootTable.select(rsdp)) {
            Console.print("acpi: no usable root table; booting uniprocessor\n");
            return untrusted(topology, bspApicId, Defect.NO_ROOT_TABLE);
        }
        long madt = RootTable.findTable(Signature.MADT);
        if (madt == RootTable.NOT_FOUND) {
            Console.print("acpi: no valid MADT (APIC table); booting uniprocessor\n");
            return untrusted(topology, bspApicId, Defect.NO_MADT);
        }
        boolean bootCpuListed = Madt.parse(madt, topology);
        if (Topology.hasDefect(topology, Defect.MADT_TOO_SHORT)) {
            Console.print("acpi: MADT unusable; booting uniprocessor\n");
            return untrusted(topology, bspApicId, Defect.MADT_TOO_SHORT);
        }
        if (!bootCpuListed) {
            Console.print("acpi: MADT does not list the boot CPU (APIC ID ");
            Console.printHex(bspApicId & 0xFFFFFFFFL);
            Console.print("), so it does not describe this machine; booting uniprocessor\n");
            return untrusted(topology, bspApicId, Defect.BSP_NOT_LISTED);
        }
        if (Topology.ioApicCount(topology) == 0) {
            Console.print("acpi: MADT lists no I/O APIC; interrupts need the 8259 PICs\n");
            Topology.addDefect(topology, Defect.NO_IO_APIC);
        }
        int outcome;
        if (Topology.enabledCpuCount(topology) < 2) {
            Console.print("acpi: MADT lists no enabled processor besides the boot CPU; booting uniprocessor\n");
            Topology.addDefect(topology, Defect.NO_ENABLED_AP);
            outcome = Outcome.UNIPROCESSOR;
        } else if ((Topology.defects(topology) & ~Defect.INFORMATIONAL) != 0) {
            outcome = Outcome.SMP_DEGRADED;
        } else {
            outcome = Outcome.SMP;
        }
        Topology.setOutcome(topology, outcome);
        return outcome;
    }

    private static int untrusted(long topology, int bspApicId, int defect) {
        int defects = Topology.defects(topology) | defect;
        Topology.resetToBootCpu(topology, bspApicId);
        Topology.addDefect(topology, defects);
        Topology.setOutcome(topology, Outcome.UNIPROCESSOR);
        return Outcome.UNIPROCESSOR;
    }

    /** Physical address of the RSDP the last discover() used, or NOT_FOUND. */
    public static long rsdpAddress() {
        return rsdp;
    }

    /**
     * Physical address of the first valid table with this signature (e.g. Signature.FADT) in the
     * root table the last discover() selected, or NOT_FOUND.
     */
    public static long findTable(int signature) {
        if (rsdp == NOT_FOUND || RootTable.address() == RootTable.NOT_FOUND) {
            return NOT_FOUND;
        }
        return RootTable.findTable(signature);
    }
}
