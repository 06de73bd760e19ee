package dev.jkvm.vmm.emulated.irq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The 8259 pair: initialisation, masking, priorities, EOIs, cascade, auto-EOI, poll. */
class Pic8259Test {
    private final Pic8259 pic = new Pic8259();
    private int raised;

    Pic8259Test() {
        pic.onOutputChange(() -> raised++);
    }

    /** The ICW sequence Linux and most kernels use: vectors 0x20 / 0x28, cascade on IRQ 2, 8086 mode. */
    private void init(int icw4) {
        pic.write(0x20, 1, 0x11);
        pic.write(0x21, 1, 0x20);
        pic.write(0x21, 1, 0x04);
        pic.write(0x21, 1, icw4);
        pic.write(0xA0, 1, 0x11);
        pic.write(0xA1, 1, 0x28);
        pic.write(0xA1, 1, 0x02);
        pic.write(0xA1, 1, icw4);
    }

    private void pulse(int irq) {
        pic.setIrq(irq, true);
        pic.setIrq(irq, false);
    }

    @Test
    void initialisedPicDeliversByPriorityAndNonSpecificEoi() {
        init(0x01);
        assertEquals(0, pic.imr(0));
        pulse(4);
        pulse(1);
        assertTrue(pic.hasInterrupt());
        assertTrue(raised > 0);
        assertEquals(0x21, pic.peekVector());
        assertEquals(0x21, pic.acknowledge());
        assertEquals(0x02, pic.isr(0));
        assertFalse(pic.hasInterrupt(), "IRQ 4 waits behind the in-service IRQ 1");
        pic.write(0x20, 1, 0x20);  // non-specific EOI
        assertEquals(0x24, pic.acknowledge());
        pic.write(0x20, 1, 0x64);  // specific EOI for IRQ 4
        assertEquals(0, pic.isr(0));
    }

    @Test
    void maskedIrqsStayInIrr() {
        init(0x01);
        pic.write(0x21, 1, 0xFB);  // everything but the cascade masked
        pic.write(0xA1, 1, 0xFF);
        pulse(3);
        assertFalse(pic.hasInterrupt());
        assertEquals(1 << 3, pic.irr(0));
        pic.write(0x21, 1, 0xF3);
        assertTrue(pic.hasInterrupt());
        assertEquals(0x23, pic.acknowledge());
    }

    @Test
    void slaveInterruptCascadesThroughIrq2() {
        init(0x01);
        pulse(12);
        assertEquals(0x2C, pic.peekVector());
        assertEquals(0x2C, pic.acknowledge());
        assertEquals(1 << 2, pic.isr(0));
        assertEquals(1 << 4, pic.isr(1));
        pic.write(0xA0, 1, 0x20);
        pic.write(0x20, 1, 0x20);
        assertEquals(0, pic.isr(0));
        assertEquals(0, pic.isr(1));
    }

    @Test
    void autoEoiLeavesNothingInService() {
        init(0x03);
        pulse(0);
        assertEquals(0x20, pic.acknowledge());
        assertEquals(0, pic.isr(0));
        pulse(0);
        assertTrue(pic.hasInterrupt(), "no EOI needed for the next one");
    }

    @Test
    void readIsrThroughOcw3AndSpuriousIrq7() {
        init(0x01);
        pulse(5);
        assertEquals(1 << 5, pic.read(0x20, 1), "IRR is read by default");
        pic.acknowledge();
        pic.write(0x20, 1, 0x0B);  // OCW3: read ISR
        assertEquals(1 << 5, pic.read(0x20, 1));
        pic.write(0x20, 1, 0x0A);  // OCW3: read IRR
        assertEquals(0, pic.read(0x20, 1));
        assertEquals(0x27, pic.acknowledge(), "an acknowledge with no request gets IRQ 7");
    }

    @Test
    void pollCommandTakesTheRequestWithoutPuttingItInServiceAsKvm() {
        init(0x01);
        pulse(6);
        pic.write(0x20, 1, 0x0C);  // OCW3 poll
        assertEquals(0x86, pic.read(0x20, 1));
        assertEquals(0, pic.irr(0));
        assertEquals(0, pic.isr(0), "KVM's poll read leaves ISR clear (the datasheet would set it)");
        pic.write(0x20, 1, 0x0C);
        assertEquals(0x07, pic.read(0x20, 1), "nothing pending");
    }

    @Test
    void icw1KeepsWhatKvmKeeps() {
        init(0x03);                  // auto-EOI
        pic.write(0x20, 1, 0x11);    // ICW1 with ICW4 to follow: auto-EOI survives until ICW4
        pic.write(0x21, 1, 0x30);
        pic.write(0x21, 1, 0x04);
        pic.write(0x21, 1, 0x01);    // ICW4 without auto-EOI
        pulse(1);
        assertEquals(0x31, pic.acknowledge());
        assertEquals(1 << 1, pic.isr(0));
        pic.write(0x20, 1, 0x11);    // ICW1 again: ISR kept (the request was acknowledged, not pending)
        assertEquals(1 << 1, pic.isr(0));
        assertEquals(0, pic.imr(0), "IMR cleared");
    }

    @Test
    void levelTriggeredViaElcrStaysRequestedWhileHigh() {
        init(0x01);
        pic.write(0x4D1, 1, 0xFF);
        assertEquals(0xDE, pic.read(0x4D1, 1), "IRQ 8 and 13 cannot be level");
        pic.write(0x4D0, 1, 0xFF);
        assertEquals(0xF8, pic.read(0x4D0, 1), "IRQ 0, 1 and 2 cannot be level");
        pic.setIrq(5, true);
        assertEquals(0x25, pic.acknowledge());
        pic.write(0x20, 1, 0x20);
        assertTrue(pic.hasInterrupt(), "still high: requested again");
        pic.setIrq(5, false);
        assertFalse(pic.hasInterrupt(), "a level request goes away with its input");
    }

    @Test
    void slaveRequestWithdrawnAfterTheCascadeEdgeGivesTheSlavesSpuriousIrq7() {
        init(0x01);
        pic.write(0x4D1, 1, 0x02);  // IRQ 9 level
        pic.setIrq(9, true);
        pic.setIrq(9, false);
        assertTrue(pic.hasInterrupt(), "the master latched the cascade's edge");
        assertEquals(0x2F, pic.acknowledge());
    }

    @Test
    void rotationAndSetPriority() {
        init(0x01);
        pic.write(0x20, 1, 0xC4);  // set priority: IRQ 4 lowest, 5 highest
        pulse(3);
        pulse(6);
        assertEquals(0x26, pic.acknowledge());
    }
}
