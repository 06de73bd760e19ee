package dev.jkvm.vmm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The UART through the port bus at COM1. Expected values are the PC16550D datasheet's: register
 * map (Table II), IIR codes and priorities (Table IV), LSR bits (§8.6), loopback wiring (§8.5).
 */
class Serial16550Test {
    private static final int BASE = 0x3F8; // PC COM1
    private static final int THR = BASE, RBR = BASE, DLL = BASE, IER = BASE + 1, DLM = BASE + 1;
    private static final int IIR = BASE + 2, FCR = BASE + 2, LCR = BASE + 3, MCR = BASE + 4;
    private static final int LSR = BASE + 5, MSR = BASE + 6, SCR = BASE + 7;
    private static final int IRQ = 4;

    /** Counts writes to the stream so buffering is visible. */
    private static final class RecordingStream extends OutputStream {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int flushes;

        @Override
        public void write(int b) { bytes.write(b); }

        @Override
        public void write(byte[] b, int off, int len) { bytes.write(b, off, len); }

        @Override
        public void flush() { flushes++; }

        String text() { return bytes.toString(StandardCharsets.US_ASCII); }
    }

    private final RecordingInterruptLines irq = new RecordingInterruptLines();
    private final RecordingStream out = new RecordingStream();
    private final Serial16550 uart = new Serial16550(irq, IRQ, out);
    private final PortIoBus bus = new PortIoBus();

    Serial16550Test() {
        bus.register(BASE, 8, uart);
    }

    private int in(int port) { return bus.read(port, 1); }

    private void out(int port, int value) { bus.write(port, 1, value); }

    private void print(String s) {
        for (byte b : s.getBytes(StandardCharsets.US_ASCII)) out(THR, b);
    }

    @Test
    void resetStateMatchesDatasheetTableIII() {
        assertEquals(0x00, in(IER), "IER: all interrupts disabled");
        assertEquals(0x01, in(IIR), "IIR: bit 0 = 1, no interrupt pending");
        assertEquals(0x00, in(LCR));
        assertEquals(0x60, in(LSR), "LSR: THRE and TEMT set, nothing received");
        assertEquals(0x00, in(MSR) & 0x0F, "MSR: no deltas");
        assertEquals(List.of(), irq.drain(), "reset leaves the line low without driving it");
    }

    @Test
    void transmittedBytesReachTheStreamAtNewline() {
        assertEquals(-1, uart.firstByteNanos());
        print("hello");
        assertEquals("", out.text(), "a partial line stays buffered");
        print("\n");
        assertEquals("hello\n", out.text());
        assertEquals(6, uart.bytesTransmitted());
        assertNotEquals(-1, uart.firstByteNanos());
    }

    @Test
    void explicitFlushDeliversAPartialLine() {
        print("login: ");
        uart.flush();
        assertEquals("login: ", out.text());
        assertTrue(out.flushes > 0, "the stream itself is flushed too");
    }

    @Test
    void pollingLsrWithoutWritingDeliversAPartialLine() {
        // A polled driver alternates LSR read and THR write: no flush per byte.
        for (char c : "> ".toCharArray()) {
            assertEquals(0x20, in(LSR) & 0x20);
            out(THR, c);
        }
        assertEquals("", out.text());
        in(LSR);
        in(LSR); // now it polls for input
        assertEquals("> ", out.text());
    }

    @Test
    void readingInputDeliversAPartialLine() {
        print("? ");
        in(RBR);
        assertEquals("? ", out.text());
    }

    @Test
    void divisorLatchIsReachedThroughDlab() {
        out(LCR, 0x83); // DLAB + 8N1
        out(DLL, 0x01);
        out(DLM, 0x00); // 115200 baud
        assertEquals(0x01, in(DLL));
        assertEquals(0x00, in(DLM));
        out(DLM, 0x04);
        assertEquals(0x04, in(DLM));
        assertEquals(0x83, in(LCR));
        assertEquals("", out.text(), "a DLL write is no transmission");
        out(LCR, 0x03);
        assertEquals(0x00, in(IER), "with DLAB clear offset 1 is IER again");
        print("x\n");
        assertEquals("x\n", out.text());
        out(LCR, 0x83);
        assertEquals(0x01, in(DLL), "the divisor survives DLAB toggling and THR writes");
        assertEquals(0x04, in(DLM));
    }

    @Test
    void scratchRegisterHoldsAByte() {
        out(SCR, 0xA5);
        assertEquals(0xA5, in(SCR));
    }

    @Test
    void lsrReportsDataReadyUntilTheQueueIsDrained() {
        uart.receive("ab".getBytes(StandardCharsets.US_ASCII));
        assertEquals(0x61, in(LSR), "DR | THRE | TEMT");
        assertEquals('a', in(RBR));
        assertEquals(0x61, in(LSR));
        assertEquals('b', in(RBR));
        assertEquals(0x60, in(LSR));
    }

    @Test
    void interruptIdentificationFollowsTableIvPriorities() {
        out(MCR, 0x10); // loopback: MCR outputs drive the modem inputs, giving modem-status deltas
        in(MSR); // discard the deltas of entering loopback
        out(MCR, 0x13); // DTR and RTS on: DSR and CTS change
        uart.receive(new byte[] {'z'});
        out(IER, 0x0F);
        // Pending now: received data (priority 2), THR empty (3), modem status (4).
        assertEquals(0x04, in(IIR), "received data available first");
        assertEquals(0x04, in(IIR), "reading IIR does not clear received data");
        assertEquals('z', in(RBR));
        assertEquals(0x02, in(IIR), "then THR empty, which this read clears");
        assertEquals(0x00, in(IIR), "then modem status");
        int msr = in(MSR);
        assertEquals(0x30, msr & 0xF0, "loopback: CTS <- RTS, DSR <- DTR");
        assertEquals(0x03, msr & 0x0F, "DCTS and DDSR");
        assertEquals(0x01, in(IIR), "reading MSR cleared the last source");
    }

    @Test
    void fifoEnableIsReflectedInIirAndCharacterTimeoutBelowTrigger() {
        out(FCR, 0xC1); // FIFO on, trigger level 14
        assertEquals(0xC1, in(IIR), "IIR bits 7:6 = 11 with FIFOs enabled");
        out(IER, 0x01);
        uart.receive(new byte[2]);
        assertEquals(0xCC, in(IIR), "below the trigger level: character timeout");
        uart.receive(new byte[12]);
        assertEquals(0xC4, in(IIR), "at 14 bytes: received data available");
        out(FCR, 0xC3); // clear the receive FIFO
        assertEquals(0x60, in(LSR));
        assertEquals(0xC1, in(IIR));
        out(FCR, 0x00);
        assertEquals(0x01, in(IIR), "16450 mode again");
    }

    @Test
    void fcrBitsOtherThanEnableNeedFcr0() {
        uart.receive(new byte[] {1});
        out(FCR, 0x02); // clear-receive without FCR0: not programmed
        assertEquals(0x61, in(LSR));
    }

    @Test
    void thrEmptyInterruptRaisesLowersAndReArmsAfterEachWrite() {
        out(IER, 0x02);
        assertEquals(List.of("4:high"), irq.drain(), "enabling ETBEI with THR empty interrupts at once");
        assertEquals(0x02, in(IIR));
        assertEquals(List.of("4:low"), irq.drain(), "reading IIR clears a THR-empty interrupt");
        out(THR, 'a');
        assertEquals(List.of("4:high"), irq.drain(), "the byte left at once: THR empty again");
        out(THR, 'b');
        assertEquals(List.of("4:low", "4:high"), irq.drain(), "a write while pending gives a fresh edge");
        out(IER, 0x00);
        assertEquals(List.of("4:low"), irq.drain());
        assertEquals(0x01, in(IIR));
    }

    @Test
    void receivedDataInterruptFollowsTheQueue() {
        uart.receive(new byte[] {'q'});
        assertEquals(List.of(), irq.drain(), "disabled in IER: line stays low");
        out(IER, 0x01);
        assertEquals(List.of("4:high"), irq.drain());
        uart.receive(new byte[] {'r'});
        assertEquals(List.of(), irq.drain(), "already high: not driven again");
        in(RBR);
        assertEquals(List.of(), irq.drain());
        in(RBR);
        assertEquals(List.of("4:low"), irq.drain(), "lowered when the last byte is read");
        assertTrue(!irq.isHigh(4));
    }

    @Test
    void loopbackReturnsTransmittedBytesAndMirrorsModemControl() {
        out(MCR, 0x10);
        in(MSR); // entering loopback changed the inputs; discard those deltas
        out(IER, 0x01);
        irq.drain();
        out(THR, 'L');
        assertEquals("", out.text());
        uart.flush();
        assertEquals("", out.text(), "loopback bytes never reach the line");
        assertEquals(0, uart.bytesTransmitted());
        assertEquals(0x61, in(LSR));
        assertEquals(List.of("4:high"), irq.drain(), "the looped byte raises received-data");
        assertEquals('L', in(RBR));

        out(MCR, 0x1F); // DTR RTS OUT1 OUT2 on
        int msr = in(MSR);
        assertEquals(0xF0, msr & 0xF0, "DCD <- OUT2, RI <- OUT1, DSR <- DTR, CTS <- RTS");
        assertEquals(0x0B, msr & 0x0F, "DDCD, DDSR, DCTS; no TERI on a rising RI");
        out(MCR, 0x10);
        assertEquals(0x0F, in(MSR), "all inputs dropped; TERI on RI's trailing edge");
        out(MCR, 0x08);
        assertEquals(0xB0, in(MSR) & 0xF0, "outside loopback a ready terminal: DCD DSR CTS");
    }

    @Test
    void wideAccessesReachConsecutiveRegisters() {
        out(SCR, 0x5A);
        // MCR (OUT2 from reset), LSR (THRE TEMT), MSR (DCD DSR CTS), SCR: one byte each.
        assertEquals(0x5A_B0_60_08, bus.read(MCR, 4));
        assertEquals(0xFF_5A, bus.read(SCR, 2), "the byte past the UART reads all ones");
    }

    @Test
    void outputFailureIsKeptAndLaterOutputDropped() {
        Serial16550 broken = new Serial16550(irq, IRQ, new OutputStream() {
            @Override
            public void write(int b) throws IOException { throw new IOException("pipe closed"); }
        });
        broken.write(BASE, 1, '\n');
        broken.write(BASE, 1, '\n');
        assertEquals("pipe closed", broken.outputFailure().getMessage());
        assertEquals(2, broken.bytesTransmitted());
    }
}
