package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.memory.GuestLayout;
import dev.jkvm.vmm.memory.GuestMemory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the whole ACPI table set for an {@link AcpiConfig} and lays it out in guest memory.
 *
 * <p>Layout from the base address upward: RSDP (first, so the §5.2.5.1 scan of 0xE0000–0xFFFFF
 * on 16-byte boundaries finds it at once), FACS (64-byte aligned, §5.2.10), DSDT, FADT, MADT,
 * SRAT (only with NUMA nodes), XSDT, RSDT, each on a 16-byte boundary. The RSDP points at the
 * XSDT and RSDT; both list FADT, MADT and SRAT; the FADT points at the FACS and the DSDT.
 */
public final class AcpiTables {
    private AcpiTables() {}

    /** One table and the guest-physical address it is built for. */
    record Placed(String signature, long address, byte[] bytes) {
        long end() { return address + bytes.length; }
    }

    static final int TABLE_ALIGNMENT = 16;

    /**
     * Each table's bytes keyed by signature ("RSDP", "FACS", "DSDT", "FACP", "APIC", "SRAT" when
     * NUMA nodes are configured, "XSDT", "RSDT"), in layout order, with every pointer computed
     * for tables placed from {@code baseAddress} (which must be 16-byte aligned).
     */
    public static Map<String, byte[]> build(AcpiConfig cfg, long baseAddress) {
        Map<String, byte[]> bySignature = new LinkedHashMap<>();
        for (Placed p : layout(cfg, baseAddress)) bySignature.put(p.signature(), p.bytes());
        return Collections.unmodifiableMap(bySignature);
    }

    /**
     * Writes the tables into {@code [GuestLayout.ACPI_BASE, GuestLayout.ACPI_END)} and returns the
     * RSDP's guest-physical address (always {@code ACPI_BASE}).
     */
    public static long install(GuestMemory mem, AcpiConfig cfg) {
        List<Placed> tables = layout(cfg, GuestLayout.ACPI_BASE);
        long end = tables.getLast().end();
        long window = GuestLayout.ACPI_END - GuestLayout.ACPI_BASE;
        if (end > GuestLayout.ACPI_END) {
            throw new IllegalArgumentException("ACPI tables for " + cfg.cpuCount() + " CPUs need " + (end - GuestLayout.ACPI_BASE)
                    + " bytes but the BIOS area 0xE0000-0xFFFFF scanned for the RSDP holds " + window + " (ACPI 6.5 §5.2.5.1); use fewer vCPUs or NUMA nodes");
        }
        if (!mem.isRam(GuestLayout.ACPI_BASE, end - GuestLayout.ACPI_BASE)) {
            throw new IllegalArgumentException("guest RAM does not cover the ACPI area 0x" + Long.toHexString(GuestLayout.ACPI_BASE)
                    + "-0x" + Long.toHexString(end - 1) + "; give the VM RAM from address 0 through at least 1 MiB");
        }
        // Zero the alignment gaps too, so a reinstall after reset leaves no stale bytes behind.
        mem.fill(GuestLayout.ACPI_BASE, end - GuestLayout.ACPI_BASE, (byte) 0);
        for (Placed p : tables) mem.write(p.address(), p.bytes());
        return tables.getFirst().address();
    }

    static List<Placed> layout(AcpiConfig cfg, long baseAddress) {
        if (baseAddress < 0 || baseAddress % TABLE_ALIGNMENT != 0) {
            throw new IllegalArgumentException("ACPI base address 0x" + Long.toHexString(baseAddress) + " must be 16-byte aligned (ACPI 6.5 §5.2.5.1)");
        }
        long rsdpAt = baseAddress;
        long facsAt = alignUp(rsdpAt + Rsdp.SIZE, Facs.ALIGNMENT);
        byte[] facs = Facs.build();
        long dsdtAt = alignUp(facsAt + facs.length, TABLE_ALIGNMENT);
        byte[] dsdt = Dsdt.build();
        long fadtAt = alignUp(dsdtAt + dsdt.length, TABLE_ALIGNMENT);
        byte[] fadt = Fadt.build(facsAt, dsdtAt);
        long madtAt = alignUp(fadtAt + fadt.length, TABLE_ALIGNMENT);
        byte[] madt = Madt.build(cfg);
        long next = alignUp(madtAt + madt.length, TABLE_ALIGNMENT);

        List<Placed> described = new ArrayList<>();
        described.add(new Placed(Fadt.SIGNATURE, fadtAt, fadt));
        described.add(new Placed(Madt.SIGNATURE, madtAt, madt));
        if (!cfg.numaNodes().isEmpty()) {
            byte[] srat = Srat.build(cfg);
            described.add(new Placed(Srat.SIGNATURE, next, srat));
            next = alignUp(next + srat.length, TABLE_ALIGNMENT);
        }
        List<Long> pointers = described.stream().map(Placed::address).toList();
        long xsdtAt = next;
        byte[] xsdt = Xsdt.build(pointers);
        long rsdtAt = alignUp(xsdtAt + xsdt.length, TABLE_ALIGNMENT);
        byte[] rsdt = Rsdt.build(pointers);
        byte[] rsdp = Rsdp.build(rsdtAt, xsdtAt);

        List<Placed> all = new ArrayList<>();
        all.add(new Placed("RSDP", rsdpAt, rsdp));
        all.add(new Placed(Facs.SIGNATURE, facsAt, facs));
        all.add(new Placed(Dsdt.SIGNATURE, dsdtAt, dsdt));
        all.addAll(described);
        all.add(new Placed(Xsdt.SIGNATURE, xsdtAt, xsdt));
        all.add(new Placed(Rsdt.SIGNATURE, rsdtAt, rsdt));
        return all;
    }

    private static long alignUp(long v, long alignment) {
        return (v + alignment - 1) / alignment * alignment;
    }
}
