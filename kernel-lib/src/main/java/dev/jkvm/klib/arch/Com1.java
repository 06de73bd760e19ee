package dev.jkvm.klib.arch;

/**
 * COM1, the first PC serial port: a 16550-compatible UART at I/O port 0x3F8 on PC/AT-compatible
 * machines (QEMU, jkvm). Polled output writes a byte to the data register once the line status
 * register reports the transmitter holding register empty (16550 data sheet: LSR bit 5, THRE).
 */
public final class Com1 {
    private Com1() {
    }

    /** Base port: the data register (transmitter holding register on write). */
    public static final int PORT = 0x3F8;
    /** Line status register, at base + 5. */
    public static final int LINE_STATUS = PORT + 5;
    /** LSR bit 5: the transmitter holding register is empty. */
    public static final int TRANSMITTER_EMPTY = 1 << 5;
}
