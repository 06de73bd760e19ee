package dev.jkvm.vmm.emulated.irq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.devices.PortIoBus;
import dev.jkvm.vmm.devices.Serial16550;
import dev.jkvm.vmm.emulated.cpu.CpuEvents;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The chips wired together: device GSIs, the PIT through both interrupt paths, the platform timer thread. */
class IrqChipTest {
    private final FakeClock clock = new FakeClock();
    private final IrqChip chip = new IrqChip(clock);
    private final CpuEvents bspEvents = new CpuEvents();
    private final LocalApic bsp = chip.addCpu(0, true, bspEvents);
    private final LocalApic ap = chip.addCpu(1, false, new CpuEvents());
    private final PortIoBus ports = new PortIoBus();

    IrqChipTest() {
        chip.registerPorts(ports);
    }

    private void ioapicEntry(int pin, long value) {
        IoApic io = chip.ioapic();
        io.write(IoApic.DEFAULT_BASE, 4, 0x11 + 2 * pin);
        io.write(IoApic.DEFAULT_BASE + 0x10, 4, value >>> 32);
        io.write(IoApic.DEFAULT_BASE, 4, 0x10 + 2 * pin);
        io.write(IoApic.DEFAULT_BASE + 0x10, 4, value & 0xFFFF_FFFFL);
    }

    @Test
    void serialInterruptReachesTheLapicThroughTheIoApic() {
        bsp.mmioWrite(LocalApic.REG_SVR, 4, 0x1FF);
        ioapicEntry(4, 0x24);
        Serial16550 com1 = new Serial16550(chip.lines(), Serial16550.COM1_GSI, new ByteArrayOutputStream());
        com1.write(Serial16550.COM1_BASE + 1, 1, 0x02);  // IER: THR empty interrupt
        assertTrue(bsp.inIrr(0x24), "COM1's THRE interrupt arrives as vector 0x24");
    }

    @Test
    void pitThroughThe8259ToTheBspInVirtualWireMode() {
        // ICW1-4: vectors 0x20/0x28, then unmask IRQ 0 only.
        ports.write(0x20, 1, 0x11);
        ports.write(0x21, 1, 0x20);
        ports.write(0x21, 1, 0x04);
        ports.write(0x21, 1, 0x01);
        ports.write(0x21, 1, 0xFE);
        ports.write(0x43, 1, 0x34);
        ports.write(0x40, 1, 0x9C);
        ports.write(0x40, 1, 0x2E);  // 11932: 10 ms
        bspEvents.take(-1);
        long due = chip.pit().nextDeadline();
        clock.set(due);
        chip.pit().tick(due);
        assertEquals(CpuEvents.INTERRUPT, bspEvents.take(CpuEvents.INTERRUPT));
        assertEquals(0x20, bsp.pendingInterrupt());
        bsp.acknowledge(0x20);
        assertEquals(1, chip.pic().isr(0));
        assertEquals(-1, ap.pendingInterrupt(), "only the BSP's LINT0 has the 8259");
    }

    @Test
    void pitReachesIoApicPin2() {
        bsp.mmioWrite(LocalApic.REG_SVR, 4, 0x1FF);
        bsp.mmioWrite(LocalApic.REG_LVT_LINT0, 4, LocalApic.LVT_MASKED | 0x700);  // 8259 off, as an APIC kernel does
        ioapicEntry(2, 0x30);
        ports.write(0x43, 1, 0x34);
        ports.write(0x40, 1, 0x9C);
        ports.write(0x40, 1, 0x2E);
        chip.pit().tick(chip.pit().nextDeadline());
        assertTrue(bsp.inIrr(0x30));
        assertFalse(chip.ioapic().level(2), "a pulse: the line is low again");
    }

    @Test
    void platformTimerThreadFiresTheLapicTimer() throws InterruptedException {
        bspEvents.bindOwner(Thread.currentThread());  // this thread plays the vCPU: posts unpark it
        chip.start();
        try {
            bsp.mmioWrite(LocalApic.REG_SVR, 4, 0x1FF);
            bsp.mmioWrite(LocalApic.REG_TIMER_DIVIDE, 4, 0xB);
            bsp.mmioWrite(LocalApic.REG_LVT_TIMER, 4, 0xEC);
            bspEvents.take(-1);
            bsp.mmioWrite(LocalApic.REG_TIMER_INITIAL, 4, 1000);
            assertFalse(bsp.inIrr(0xEC));
            clock.set(1000);  // guest time passes the deadline; the thread notices and ticks
            long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!bsp.inIrr(0xEC) && System.nanoTime() < giveUp) bspEvents.awaitUntil(CpuEvents.INTERRUPT, giveUp);
            assertTrue(bsp.inIrr(0xEC), "the platform timer ticked the LAPIC");
        } finally {
            chip.close();
        }
    }
}
