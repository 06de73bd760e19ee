package dev.jkvm.vmm.emulated.irq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.emulated.cpu.CpuEvents;
import org.junit.jupiter.api.Test;

/** The I/O APIC: registers, edge and level delivery, remote IRR and the LAPIC's EOI. */
class IoApicTest {
    private static final long BASE = IoApic.DEFAULT_BASE;
    private final ApicBus bus = new ApicBus(new FakeClock());
    private final LocalApic cpu0 = bus.add(0, true, new CpuEvents());
    private final LocalApic cpu1 = bus.add(1, false, new CpuEvents());
    private final IoApic ioapic = new IoApic(BASE, bus);

    IoApicTest() {
        bus.onEoi(ioapic::eoi);
        cpu0.mmioWrite(LocalApic.REG_SVR, 4, 0x1FF);
        cpu1.mmioWrite(LocalApic.REG_SVR, 4, 0x1FF);
    }

    private int reg(int index) {
        ioapic.write(BASE, 4, index);
        return (int) ioapic.read(BASE + 0x10, 4);
    }

    private void reg(int index, int value) {
        ioapic.write(BASE, 4, index);
        ioapic.write(BASE + 0x10, 4, value & 0xFFFF_FFFFL);
    }

    private void entry(int pin, long value) {
        reg(0x10 + 2 * pin + 1, (int) (value >>> 32));
        reg(0x10 + 2 * pin, (int) value);
    }

    private long entry(int pin) {
        return (reg(0x10 + 2 * pin) & 0xFFFF_FFFFL) | ((long) reg(0x11 + 2 * pin) << 32);
    }

    private static void takeAndEoi(LocalApic apic, int vector) {
        assertEquals(vector, apic.pendingInterrupt());
        apic.acknowledge(vector);
        apic.mmioWrite(LocalApic.REG_EOI, 4, 0);
    }

    @Test
    void registersAfterReset() {
        assertEquals(0x0017_0011, reg(0x01), "version 0x11, 24 entries, as KVM's");
        assertEquals(0, reg(0x00));
        for (int pin = 0; pin < 24; pin++) assertEquals(1L << 16, entry(pin), "pin " + pin + " masked");
        reg(0x00, 0x0A00_0000);
        assertEquals(0x0A00_0000, reg(0x00));
        assertEquals(0x0A00_0000, reg(0x02), "arbitration ID follows the ID");
        ioapic.write(BASE, 4, 0x12);
        assertEquals(0x12, (int) ioapic.read(BASE, 4), "IOREGSEL reads back");
        assertEquals(0xFFFF_FFFF, reg(0x10 + 2 * 24), "no entry 24");
    }

    @Test
    void readOnlyBitsKeepTheirValue() {
        entry(3, (0xFFL << 56) | 0xFFFF);
        assertEquals((0xFFL << 56) | (0xFFFF & ~(1 << 12) & ~(1 << 14)), entry(3));
    }

    @Test
    void edgeInputDeliversOncePerRisingEdge() {
        entry(4, 0x34);  // physical dest 0, fixed, edge, unmasked
        ioapic.setLevel(4, true);
        assertTrue(cpu0.inIrr(0x34));
        takeAndEoi(cpu0, 0x34);
        ioapic.setLevel(4, true);
        assertFalse(cpu0.inIrr(0x34), "no new edge while the line stays high");
        ioapic.setLevel(4, false);
        ioapic.setLevel(4, true);
        assertTrue(cpu0.inIrr(0x34));
        assertFalse(cpu1.inIrr(0x34));
    }

    @Test
    void levelInputHoldsRemoteIrrUntilEoiThenRedelivers() {
        entry(9, (1L << 56) | (1 << 15) | 0x44);  // dest APIC 1, level
        ioapic.setLevel(9, true);
        assertTrue(cpu1.inIrr(0x44));
        assertTrue(cpu1.inTmr(0x44));
        assertTrue((entry(9) & (1 << 14)) != 0, "remote IRR set");
        takeAndEoi(cpu1, 0x44);
        assertTrue(cpu1.inIrr(0x44), "line still high: delivered again after the EOI");
        assertTrue((entry(9) & (1 << 14)) != 0);
        ioapic.setLevel(9, false);
        takeAndEoi(cpu1, 0x44);
        assertEquals(0, entry(9) & (1 << 14), "EOI cleared remote IRR");
        assertFalse(cpu1.inIrr(0x44));
    }

    @Test
    void maskedLevelInputIsDeliveredWhenUnmasked() {
        entry(10, (1 << 16) | (1 << 15) | 0x50);
        ioapic.setLevel(10, true);
        assertFalse(cpu0.inIrr(0x50));
        entry(10, (1 << 15) | 0x50);
        assertTrue(cpu0.inIrr(0x50));
    }

    @Test
    void rewritingAsEdgeClearsRemoteIrr() {
        entry(11, (1 << 15) | 0x51);
        ioapic.setLevel(11, true);
        assertTrue((entry(11) & (1 << 14)) != 0);
        entry(11, 0x51);
        assertEquals(0, entry(11) & (1 << 14));
    }

    @Test
    void logicalDestinationAndLowestPriority() {
        cpu0.mmioWrite(LocalApic.REG_LDR, 4, 1L << 24);
        cpu1.mmioWrite(LocalApic.REG_LDR, 4, 2L << 24);
        cpu0.mmioWrite(LocalApic.REG_TPR, 4, 0x40);
        entry(12, (3L << 56) | (1 << 11) | (1 << 8) | 0x60);  // logical 0b11, lowest priority
        ioapic.setLevel(12, true);
        assertTrue(cpu1.inIrr(0x60));
        assertFalse(cpu0.inIrr(0x60));
    }

    @Test
    void undeliveredLevelInterruptLeavesRemoteIrrClear() {
        cpu1.mmioWrite(LocalApic.REG_SVR, 4, 0xFF);  // software-disabled: takes no fixed interrupt
        entry(13, (1L << 56) | (1 << 15) | 0x70);
        ioapic.setLevel(13, true);
        assertEquals(0, entry(13) & (1 << 14), "as KVM: remote IRR only when a LAPIC accepted it");
    }
}
