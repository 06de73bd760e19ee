package dev.jkvm.vmm.acpi;

/**
 * ACPI 6.5 §5.2.12 Multiple APIC Description Table ("APIC"): where the local APICs and the I/O
 * APIC are, which CPUs exist, how ISA IRQs map onto GSIs, and where NMI is wired.
 */
final class Madt {
    private Madt() {}

    static final String SIGNATURE = "APIC";
    /** ACPI 6.5 §5.2.12: MADT revision 6. */
    static final int REVISION = 6;

    /** §5.2.12 MADT flags: the board also has dual 8259 PICs, which OSPM must mask (§5.2.12.4). */
    static final int PCAT_COMPAT = 1;

    /** §5.2.12 interrupt controller structure types. */
    static final int TYPE_LOCAL_APIC = 0;
    static final int TYPE_IO_APIC = 1;
    static final int TYPE_INTERRUPT_SOURCE_OVERRIDE = 2;
    static final int TYPE_LOCAL_APIC_NMI = 4;
    static final int TYPE_LOCAL_X2APIC = 9;
    static final int TYPE_LOCAL_X2APIC_NMI = 0xA;

    /** §5.2.12.2 Local APIC flags: the processor is usable now. */
    static final int LAPIC_ENABLED = 1;

    /**
     * §5.2.12.5 MPS INTI flags: polarity in bits 1:0 (01 active high, 11 active low), trigger
     * mode in bits 3:2 (01 edge, 11 level); all zero means "conforms to the bus" (ISA: edge, high).
     */
    static final int INTI_CONFORMING = 0x0000;
    static final int INTI_ACTIVE_HIGH = 0b01;
    static final int INTI_EDGE = 0b01 << 2;
    static final int INTI_LEVEL = 0b11 << 2;

    /** §5.2.12.5: bus 0 is ISA. */
    static final int BUS_ISA = 0;

    /**
     * The PIT drives ISA IRQ 0, but on an APIC machine it is wired to I/O APIC pin 2 (pin 0 is the
     * 8259 cascade, ExtINT); KVM's in-kernel PIT follows that wiring.
     */
    static final int PIT_IRQ = 0;
    static final int PIT_GSI = 2;

    /**
     * The SCI (FADT SCI_INT) is IRQ 9; §5.2.9 says it is a sharable, level, active-low interrupt
     * unless an override says otherwise. KVM's IOAPIC input is active high, so the override
     * declares level/active-high, as PC chipsets with the SCI on the APIC do.
     */
    static final int SCI_IRQ = 9;

    /** Processor UID value meaning "all processors" in the NMI structures (§5.2.12.7, §5.2.12.13). */
    static final int ALL_PROCESSORS_UID8 = 0xFF;
    static final long ALL_PROCESSORS_UID32 = 0xFFFF_FFFFL;

    /** LINT1 is the NMI input of every local APIC on a PC (Intel SDM Vol. 3 "Local Vector Table"). */
    static final int NMI_LINT = 1;

    static byte[] build(AcpiConfig cfg) {
        AcpiByteWriter w = new AcpiByteWriter().u32(cfg.lapicBase()).u32(PCAT_COMPAT);
        boolean anyX2apic = false;
        for (int i = 0; i < cfg.cpuCount(); i++) {
            int apicId = cfg.apicIds().get(i);
            if (cfg.isX2apicOnly(i)) {
                anyX2apic = true;
                // §5.2.12.12 Processor Local x2APIC structure.
                w.u8(TYPE_LOCAL_X2APIC).u8(16).u16(0).u32(apicId).u32(LAPIC_ENABLED).u32(i);
            } else {
                // §5.2.12.2 Processor Local APIC structure.
                w.u8(TYPE_LOCAL_APIC).u8(8).u8(i).u8(apicId).u32(LAPIC_ENABLED);
            }
        }
        // §5.2.12.3 I/O APIC structure: the only I/O APIC, so its inputs start at GSI 0.
        w.u8(TYPE_IO_APIC).u8(12).u8(cfg.ioapicId()).u8(0).u32(cfg.ioapicBase()).u32(0);
        // §5.2.12.5 Interrupt Source Overrides.
        w.u8(TYPE_INTERRUPT_SOURCE_OVERRIDE).u8(10).u8(BUS_ISA).u8(PIT_IRQ).u32(PIT_GSI).u16(INTI_CONFORMING);
        w.u8(TYPE_INTERRUPT_SOURCE_OVERRIDE).u8(10).u8(BUS_ISA).u8(SCI_IRQ).u32(SCI_IRQ).u16(INTI_LEVEL | INTI_ACTIVE_HIGH);
        // §5.2.12.7 Local APIC NMI: LINT1 of every processor, edge-triggered active high as on a PC.
        w.u8(TYPE_LOCAL_APIC_NMI).u8(6).u8(ALL_PROCESSORS_UID8).u16(INTI_EDGE | INTI_ACTIVE_HIGH).u8(NMI_LINT);
        if (anyX2apic) {
            // §5.2.12.13 Local x2APIC NMI: the same wiring for processors only an x2APIC entry describes.
            w.u8(TYPE_LOCAL_X2APIC_NMI).u8(12).u16(INTI_EDGE | INTI_ACTIVE_HIGH).u32(ALL_PROCESSORS_UID32).u8(NMI_LINT).zeros(3);
        }
        return SdtHeader.wrap(SIGNATURE, REVISION, w.toByteArray());
    }
}
