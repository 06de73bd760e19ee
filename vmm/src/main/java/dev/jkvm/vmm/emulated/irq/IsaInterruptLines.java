package dev.jkvm.vmm.emulated.irq;

import dev.jkvm.vmm.devices.InterruptLines;

/**
 * The machine's interrupt wiring as devices see it ({@link InterruptLines}): GSI {@code n} is I/O
 * APIC pin {@code n} and, for the ISA range 0-15, 8259 IRQ {@code n} as well, as KVM's default
 * routing does (KVM_IRQ_LINE drives both chips). GSI 2 reaches only the I/O APIC: on the 8259
 * IRQ 2 is the slave's cascade input, not a line a device can drive.
 *
 * <p>The PIT's channel 0 is wired apart ({@link #pitOutput}): ISA IRQ 0 on the 8259 and I/O APIC
 * pin 2, the interrupt source override our MADT declares (ACPI 6.5 §5.2.12.5; I/O APIC pin 0
 * is the 8259's ExtINT on a PC).
 */
public final class IsaInterruptLines implements InterruptLines {
    /** ISA IRQ 0 (the PIT) arrives at this I/O APIC pin. */
    public static final int PIT_GSI = 2;

    private final IoApic ioapic;
    private final Pic8259 pic;

    public IsaInterruptLines(IoApic ioapic, Pic8259 pic) {
        this.ioapic = ioapic;
        this.pic = pic;
    }

    @Override
    public void setLevel(int gsi, boolean high) {
        if (gsi < 16 && gsi != 2) pic.setIrq(gsi, high);
        ioapic.setLevel(gsi, high);
    }

    /** PIT channel 0's output line. */
    public void pitOutput(boolean high) {
        pic.setIrq(0, high);
        ioapic.setLevel(PIT_GSI, high);
    }
}
