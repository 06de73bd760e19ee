package dev.jkvm.vmm.devices;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayDeque;

/**
 * A National Semiconductor PC16550D UART, the PC's COM port, as QEMU's {@code isa-serial} presents
 * it. Register numbers, bits and interrupt priorities follow the PC16550D datasheet (Table II
 * "Summary of Registers" and Table IV "Interrupt Control Functions"); reset values are QEMU's
 * (checked against QEMU 7.2 by {@code Serial16550QemuOracleTest}).
 *
 * <p>The wire is infinitely fast: a byte written to THR is on the host before the next guest
 * instruction, so LSR always reports THRE and TEMT, and the THR-empty interrupt re-arms right
 * after every write. Received bytes wait in an unbounded queue (the receive FIFO backed by host
 * flow control), so the receiver never overruns and never reports line-status errors, and the
 * receiver-line-status interrupt therefore never fires.
 *
 * <p>Interrupt line: raised while any interrupt enabled in IER is pending, lowered when none is
 * — QEMU's {@code serial_update_irq} does the same. The line is only driven on changes, and a
 * THR write drops and re-raises it, which gives an edge-triggered IOAPIC pin (ISA IRQ 4) a fresh
 * edge for every refill. Like QEMU, and unlike a PC motherboard, MCR.OUT2 does not gate the line.
 *
 * <p>Output is buffered and handed to the stream at a newline, when 4 KiB are pending, when the
 * guest shows that it stopped transmitting (reads RBR, polls LSR twice without writing THR,
 * or disables the THR-empty interrupt), and on {@link #flush()}; that keeps prompts visible
 * without a system call per byte. The VMM must call {@link #flush()} when the guest stops.
 */
public final class Serial16550 implements PioDevice {
    public static final int COM1_BASE = 0x3F8;
    /** ISA IRQ 4, identity-mapped to IOAPIC pin 4 (ACPI MADT has no override for it). */
    public static final int COM1_GSI = 4;
    public static final int PORT_COUNT = 8;

    // Register offsets, datasheet Table II (DLAB = LCR bit 7 selects the divisor latch at 0 and 1).
    private static final int RBR_THR_DLL = 0;
    private static final int IER_DLM = 1;
    private static final int IIR_FCR = 2;
    private static final int LCR = 3;
    private static final int MCR = 4;
    private static final int LSR = 5;
    private static final int MSR = 6;
    private static final int SCR = 7;

    private static final int IER_RECEIVED_DATA = 0x01;
    private static final int IER_THR_EMPTY = 0x02;
    private static final int IER_MODEM_STATUS = 0x08;
    private static final int IER_WRITABLE = 0x0F;

    // IIR identification codes, datasheet Table IV, highest priority first.
    private static final int IIR_RECEIVED_DATA = 0x04;
    private static final int IIR_CHARACTER_TIMEOUT = 0x0C;
    private static final int IIR_THR_EMPTY = 0x02;
    private static final int IIR_MODEM_STATUS = 0x00;
    private static final int IIR_NONE_PENDING = 0x01;
    private static final int IIR_FIFOS_ENABLED = 0xC0;

    private static final int FCR_FIFO_ENABLE = 0x01;
    private static final int FCR_CLEAR_RECEIVE_FIFO = 0x02;
    private static final int FCR_PROGRAMMABLE = 0xC8; // trigger level (7:6) and DMA mode (3)

    private static final int LCR_DLAB = 0x80;

    private static final int MCR_DTR = 0x01;
    private static final int MCR_RTS = 0x02;
    private static final int MCR_OUT1 = 0x04;
    private static final int MCR_OUT2 = 0x08;
    private static final int MCR_LOOPBACK = 0x10;
    private static final int MCR_WRITABLE = 0x1F;

    private static final int LSR_DATA_READY = 0x01;
    private static final int LSR_THR_EMPTY = 0x20;
    private static final int LSR_TRANSMITTER_EMPTY = 0x40;

    private static final int MSR_DELTA_CTS = 0x01;
    private static final int MSR_DELTA_DSR = 0x02;
    private static final int MSR_TRAILING_EDGE_RI = 0x04;
    private static final int MSR_DELTA_DCD = 0x08;
    private static final int MSR_CTS = 0x10;
    private static final int MSR_DSR = 0x20;
    private static final int MSR_RI = 0x40;
    private static final int MSR_DCD = 0x80;
    /** A terminal is attached and ready: QEMU's reset MSR. */
    private static final int MSR_CONNECTED_TERMINAL = MSR_DCD | MSR_DSR | MSR_CTS;

    /** Datasheet §8.6: receive FIFO trigger levels selected by FCR bits 7:6. */
    private static final int[] RECEIVE_TRIGGER_LEVELS = {1, 4, 8, 14};
    private static final int FIFO_DEPTH = 16;
    /** 115200 / 12 = 9600 baud, QEMU's reset divisor. */
    private static final int RESET_DIVISOR = 12;
    /** A PC BIOS leaves OUT2 set (it gates the IRQ on a PC); QEMU's reset MCR does too. */
    private static final int RESET_MCR = MCR_OUT2;
    private static final int OUTPUT_BUFFER_SIZE = 4096;

    private final InterruptLines irq;
    private final int gsi;
    private final OutputStream out;

    private int divisor = RESET_DIVISOR;
    private int ier;
    private int fcr;
    private int lcr;
    private int mcr = RESET_MCR;
    private int msrDeltas;
    private int scratch;
    private boolean thrEmptyInterruptPending;
    private boolean lineHigh;

    private final ArrayDeque<Byte> received = new ArrayDeque<>();
    private int lastReceived;

    private final byte[] pendingOutput = new byte[OUTPUT_BUFFER_SIZE];
    private int pendingCount;
    private boolean lsrReadSinceLastWrite;
    private IOException outputFailure;
    private long firstByteNanos = -1;
    private long bytesTransmitted;

    public Serial16550(InterruptLines irq, int gsi, OutputStream out) {
        this.irq = irq;
        this.gsi = gsi;
        this.out = out;
    }

    /**
     * Multi-byte accesses reach consecutive registers, one byte each, as on QEMU's byte-wide UART.
     * The register is the port's low three bits: every PC COM base (0x3F8, 0x2F8, 0x3E8, 0x2E8)
     * is 8-aligned.
     */
    @Override
    public synchronized int read(int port, int size) {
        int value = 0;
        for (int i = 0; i < size; i++) {
            int offset = (port & (PORT_COUNT - 1)) + i;
            int b = offset < PORT_COUNT ? readRegister(offset) : 0xFF;
            value |= b << (8 * i);
        }
        return value;
    }

    @Override
    public synchronized void write(int port, int size, int value) {
        for (int i = 0; i < size; i++) {
            int offset = (port & (PORT_COUNT - 1)) + i;
            if (offset < PORT_COUNT) writeRegister(offset, (value >>> (8 * i)) & 0xFF);
        }
    }

    /** Queues bytes arriving on the serial line (the host console's input). */
    public synchronized void receive(byte[] data) {
        for (byte b : data) received.add(b);
        updateInterruptLine();
    }

    /** Hands buffered output to the stream. */
    public synchronized void flush() {
        flushPendingOutput();
    }

    /** {@link System#nanoTime()} when the guest transmitted its first byte, or -1. */
    public synchronized long firstByteNanos() {
        return firstByteNanos;
    }

    /** Bytes the guest transmitted on the line (loopback bytes never leave the UART). */
    public synchronized long bytesTransmitted() {
        return bytesTransmitted;
    }

    /** The first failure writing to the output stream, or null; output after it is discarded. */
    public synchronized IOException outputFailure() {
        return outputFailure;
    }

    private boolean dlab() {
        return (lcr & LCR_DLAB) != 0;
    }

    private boolean fifosEnabled() {
        return (fcr & FCR_FIFO_ENABLE) != 0;
    }

    private boolean loopback() {
        return (mcr & MCR_LOOPBACK) != 0;
    }

    private int readRegister(int offset) {
        return switch (offset) {
            case RBR_THR_DLL -> dlab() ? divisor & 0xFF : readReceiveBuffer();
            case IER_DLM -> dlab() ? divisor >>> 8 : ier;
            case IIR_FCR -> readInterruptIdentification();
            case LCR -> lcr;
            case MCR -> mcr;
            case LSR -> readLineStatus();
            case MSR -> readModemStatus();
            case SCR -> scratch;
            default -> throw new IllegalStateException("UART register offset " + offset);
        };
    }

    private void writeRegister(int offset, int value) {
        switch (offset) {
            case RBR_THR_DLL -> {
                if (dlab()) divisor = (divisor & 0xFF00) | value;
                else transmit(value);
            }
            case IER_DLM -> {
                if (dlab()) divisor = (divisor & 0x00FF) | (value << 8);
                else writeInterruptEnable(value);
            }
            case IIR_FCR -> writeFifoControl(value);
            case LCR -> lcr = value;
            case MCR -> writeModemControl(value);
            case SCR -> scratch = value;
            default -> { } // LSR and MSR: datasheet reserves writes for factory test; QEMU ignores them.
        }
    }

    private int readReceiveBuffer() {
        Byte next = received.poll();
        if (next != null) lastReceived = next & 0xFF;
        updateInterruptLine();
        // A guest reading input is interactive: whatever it printed (a prompt) must be visible.
        flushPendingOutput();
        return lastReceived; // an empty receiver keeps presenting its last byte
    }

    private void transmit(int value) {
        lsrReadSinceLastWrite = false;
        thrEmptyInterruptPending = false;
        updateInterruptLine();
        if (loopback()) {
            // Datasheet §8.5 (MCR bit 4): the transmitter output is looped back into the receiver.
            received.add((byte) value);
        } else {
            if (firstByteNanos < 0) firstByteNanos = System.nanoTime();
            bytesTransmitted++;
            pendingOutput[pendingCount++] = (byte) value;
            if (value == '\n' || pendingCount == pendingOutput.length) flushPendingOutput();
        }
        // Transmission is instantaneous, so THR is empty again at once.
        thrEmptyInterruptPending = true;
        updateInterruptLine();
    }

    private void writeInterruptEnable(int value) {
        int changed = (ier ^ value) & IER_WRITABLE;
        ier = value & IER_WRITABLE;
        if ((changed & IER_THR_EMPTY) != 0) {
            // Enabling ETBEI while THR is empty interrupts at once; THR is always empty here.
            thrEmptyInterruptPending = (ier & IER_THR_EMPTY) != 0;
            // An interrupt-driven driver turns ETBEI off when its transmit queue ran dry.
            if (!thrEmptyInterruptPending) flushPendingOutput();
        }
        updateInterruptLine();
    }

    private void writeFifoControl(int value) {
        boolean enable = (value & FCR_FIFO_ENABLE) != 0;
        // Datasheet FCR0: switching between FIFO and 16450 mode clears both FIFOs.
        if (enable != fifosEnabled()) received.clear();
        if (enable) {
            // Datasheet: FCR0 must be 1 when the other FCR bits are written or they are not programmed.
            if ((value & FCR_CLEAR_RECEIVE_FIFO) != 0) received.clear();
            fcr = FCR_FIFO_ENABLE | (value & FCR_PROGRAMMABLE);
        } else {
            fcr = 0;
        }
        updateInterruptLine();
    }

    private int receiveTriggerLevel() {
        return RECEIVE_TRIGGER_LEVELS[(fcr >>> 6) & 3];
    }

    /** Datasheet Table IV priorities; called when IIR is read and to drive the interrupt line. */
    private int pendingInterrupt() {
        if ((ier & IER_RECEIVED_DATA) != 0 && !received.isEmpty()) {
            // Below the trigger level, real hardware reports a character timeout after four
            // character times of silence; an infinitely fast line is silent at once.
            boolean belowTrigger = fifosEnabled() && Math.min(received.size(), FIFO_DEPTH) < receiveTriggerLevel();
            return belowTrigger ? IIR_CHARACTER_TIMEOUT : IIR_RECEIVED_DATA;
        }
        if ((ier & IER_THR_EMPTY) != 0 && thrEmptyInterruptPending) return IIR_THR_EMPTY;
        if ((ier & IER_MODEM_STATUS) != 0 && msrDeltas != 0) return IIR_MODEM_STATUS;
        return IIR_NONE_PENDING;
    }

    private int readInterruptIdentification() {
        int pending = pendingInterrupt();
        // Table IV: reading IIR clears the THR-empty interrupt when it is the one identified.
        if (pending == IIR_THR_EMPTY) {
            thrEmptyInterruptPending = false;
            updateInterruptLine();
        }
        return pending | (fifosEnabled() ? IIR_FIFOS_ENABLED : 0);
    }

    private int readLineStatus() {
        // Polling LSR twice with no THR write in between: the guest waits for input or idles.
        if (lsrReadSinceLastWrite) flushPendingOutput();
        lsrReadSinceLastWrite = true;
        int status = LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY;
        if (!received.isEmpty()) status |= LSR_DATA_READY;
        return status;
    }

    /** The modem input lines: a ready terminal, or in loopback the MCR outputs (datasheet §8.5). */
    private int modemInputs(int modemControl) {
        if ((modemControl & MCR_LOOPBACK) == 0) return MSR_CONNECTED_TERMINAL;
        int inputs = 0;
        if ((modemControl & MCR_RTS) != 0) inputs |= MSR_CTS;
        if ((modemControl & MCR_DTR) != 0) inputs |= MSR_DSR;
        if ((modemControl & MCR_OUT1) != 0) inputs |= MSR_RI;
        if ((modemControl & MCR_OUT2) != 0) inputs |= MSR_DCD;
        return inputs;
    }

    private void writeModemControl(int value) {
        int before = modemInputs(mcr);
        mcr = value & MCR_WRITABLE;
        int after = modemInputs(mcr);
        int changed = before ^ after;
        if ((changed & MSR_CTS) != 0) msrDeltas |= MSR_DELTA_CTS;
        if ((changed & MSR_DSR) != 0) msrDeltas |= MSR_DELTA_DSR;
        if ((changed & MSR_DCD) != 0) msrDeltas |= MSR_DELTA_DCD;
        // TERI is set on the trailing edge only: RI went from on to off.
        if ((before & MSR_RI) != 0 && (after & MSR_RI) == 0) msrDeltas |= MSR_TRAILING_EDGE_RI;
        updateInterruptLine();
    }

    private int readModemStatus() {
        int status = modemInputs(mcr) | msrDeltas;
        msrDeltas = 0; // Table IV: reading MSR resets the modem status interrupt
        updateInterruptLine();
        return status;
    }

    private void updateInterruptLine() {
        boolean high = pendingInterrupt() != IIR_NONE_PENDING;
        if (high != lineHigh) {
            lineHigh = high;
            irq.setLevel(gsi, high);
        }
    }

    private void flushPendingOutput() {
        if (pendingCount == 0) return;
        if (outputFailure == null) {
            try {
                out.write(pendingOutput, 0, pendingCount);
                out.flush();
            } catch (IOException e) {
                // The guest cannot be told; keep the cause for the VMM to report.
                outputFailure = e;
            }
        }
        pendingCount = 0;
    }
}
