package dev.jkvm.vmm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The same register sequence on our UART and on QEMU 7.2's COM1 must read the same values and
 * move IRQ 4 the same way. Left out on purpose: MSR delta bits in loopback (QEMU sets none, the
 * datasheet sets them) and the FIFO character timeout (QEMU times it on the stopped VM clock).
 */
class Serial16550QemuOracleTest {
    private static final int BASE = 0x3F8;

    /** Reads and interrupt events, interleaved in order, of one run of the probe. */
    private static List<String> probe(PortIo io, Supplier<List<String>> interrupts) {
        List<String> seen = new ArrayList<>();
        for (int offset = 0; offset < 8; offset++) seen.add("reset+" + offset + "=" + io.inb(BASE + offset));
        io.outb(BASE + 3, 0x83);
        seen.add("dll=" + io.inb(BASE) + " dlm=" + io.inb(BASE + 1));
        io.outb(BASE, 0x01);
        io.outb(BASE + 1, 0x00);
        seen.add("dll=" + io.inb(BASE) + " dlm=" + io.inb(BASE + 1));
        io.outb(BASE + 3, 0x03);
        seen.add("lcr=" + io.inb(BASE + 3));

        io.outb(BASE + 1, 0x02);
        seen.add("enable THRE " + interrupts.get());
        seen.add("iir=" + io.inb(BASE + 2) + " " + interrupts.get());
        seen.add("iir=" + io.inb(BASE + 2));
        io.outb(BASE, 'A');
        seen.add("thr " + interrupts.get());
        io.outb(BASE, 'B');
        seen.add("thr while pending " + interrupts.get());
        io.outb(BASE + 1, 0x00);
        seen.add("disable " + interrupts.get() + " iir=" + io.inb(BASE + 2));

        io.outb(BASE + 2, 0x01);
        seen.add("fifo iir=" + io.inb(BASE + 2));
        io.outb(BASE + 2, 0xC7);
        seen.add("fifo 14 iir=" + io.inb(BASE + 2) + " lsr=" + io.inb(BASE + 5));
        io.outb(BASE + 2, 0x00);
        seen.add("16450 iir=" + io.inb(BASE + 2));

        io.outb(BASE + 4, 0x10);
        io.outb(BASE + 1, 0x01);
        seen.add("loopback " + interrupts.get());
        io.outb(BASE, 'x');
        seen.add("looped " + interrupts.get() + " lsr=" + io.inb(BASE + 5) + " iir=" + io.inb(BASE + 2));
        seen.add("rbr=" + io.inb(BASE) + " " + interrupts.get() + " lsr=" + io.inb(BASE + 5) + " iir=" + io.inb(BASE + 2));
        io.outb(BASE + 4, 0x1F);
        seen.add("msr inputs=" + (io.inb(BASE + 6) & 0xF0));
        io.outb(BASE + 4, 0x08);
        io.outb(BASE + 1, 0x00);
        io.inb(BASE + 6);
        seen.add("msr=" + io.inb(BASE + 6));

        io.outb(BASE + 7, 0xA5);
        seen.add("wide=" + Integer.toHexString(io.in(BASE, 4)) + "," + Integer.toHexString(io.in(BASE + 4, 4))
                + "," + Integer.toHexString(io.in(BASE + 6, 2)));
        seen.add("end " + interrupts.get());
        return seen;
    }

    @Test
    void registersAndInterruptLineMatchQemu() throws InterruptedException {
        assumeTrue(QemuQtest.available(), "qemu-system-x86_64 is not installed");
        List<String> expected;
        try (QemuQtest qemu = new QemuQtest()) {
            qemu.interceptIoapicInterrupts();
            expected = probe(qemu, qemu::drainInterrupts);
        }
        RecordingInterruptLines irq = new RecordingInterruptLines();
        PortIoBus bus = new PortIoBus();
        bus.register(BASE, 8, new Serial16550(irq, 4, OutputStream.nullOutputStream()));
        List<String> actual = probe(PortIo.of(bus), irq::drain);
        assertEquals(String.join("\n", expected), String.join("\n", actual));
    }
}
