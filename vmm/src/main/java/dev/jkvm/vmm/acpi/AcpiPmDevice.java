package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.devices.PioDevice;

import java.util.function.LongSupplier;

import static dev.jkvm.vmm.acpi.AcpiPmPorts.*;

/**
 * The fixed ACPI hardware the FADT advertises (ACPI 6.5 §4.8): the PM1a status/enable/control
 * registers, the 24-bit PM timer, and the 0xCF9 reset register. Register the same instance at
 * {@code [PM_BASE, PM_BASE + PM_LENGTH)} and at {@code RESET_PORT} (length 1).
 *
 * <p>Writing SLP_EN with SLP_TYP = {@link AcpiPmPorts#SLP_TYP_S5} runs {@code onPowerOff}; other
 * sleep types are ignored because the DSDT offers only S5. Writing RST_CPU to the reset register
 * runs {@code onReset}. No fixed event ever becomes pending: the FADT declares no fixed power or
 * sleep button and no RTC wake status, and no SCI line is wired, so timer overflow is not flagged.
 */
public final class AcpiPmDevice implements PioDevice {
    /** §4.8.3.1.2 PM1 enable bits OSPM may set: TMR_EN, GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN. */
    static final int PM1_EN_WRITABLE = 1 | 1 << 5 | 1 << 8 | 1 << 9 | 1 << 10;
    /** §4.8.3.2.1: BM_RLD and SLP_TYP hold their value; GBL_RLS and SLP_EN are write-only. */
    static final int PM1_CNT_STORED = 1 << 1 | SLP_TYP_MASK;
    /** The PIIX/ICH reset control register keeps bits 1 (SYS_RST) and 3 (FULL_RST). */
    static final int RESET_STORED = RESET_SYS_RST | 1 << 3;

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final Runnable onPowerOff;
    private final Runnable onReset;
    private final LongSupplier nanoClock;
    private final long clockOrigin;

    private int pm1Enable;
    private int pm1Control = SCI_EN;
    private int resetControl;

    public AcpiPmDevice(Runnable onPowerOff, Runnable onReset) {
        this(onPowerOff, onReset, System::nanoTime);
    }

    /** With an explicit monotonic nanosecond clock for the PM timer (tests use a fake one). */
    AcpiPmDevice(Runnable onPowerOff, Runnable onReset, LongSupplier nanoClock) {
        this.onPowerOff = onPowerOff;
        this.onReset = onReset;
        this.nanoClock = nanoClock;
        this.clockOrigin = nanoClock.getAsLong();
    }

    @Override
    public synchronized int read(int port, int size) {
        int value = 0;
        for (int i = 0; i < size; i++) value |= readByte(port + i) << (8 * i);
        return value;
    }

    @Override
    public void write(int port, int size, int value) {
        boolean powerOff;
        boolean reset;
        synchronized (this) {
            if (port == RESET_PORT) {
                reset = writeReset(value & 0xFF);
                powerOff = false;
            } else {
                powerOff = writePm(port, size, value);
                reset = false;
            }
        }
        // Outside the lock: the callbacks stop the VM and may wait for vCPU threads.
        if (powerOff) onPowerOff.run();
        if (reset) onReset.run();
    }

    /** The PM timer value now: ticks of 3.579545 MHz since the device was created, 24 bits. */
    int timerValue() {
        long ns = nanoClock.getAsLong() - clockOrigin;
        long ticks = (ns / NANOS_PER_SECOND) * PM_TIMER_HZ + (ns % NANOS_PER_SECOND) * PM_TIMER_HZ / NANOS_PER_SECOND;
        return (int) (ticks & PM_TIMER_MASK);
    }

    private int readByte(int port) {
        if (port == RESET_PORT) return resetControl;
        int offset = port - PM_BASE;
        return switch (offset) {
            case 0, 1 -> 0; // PM1 status: no fixed event is ever pending (see class comment)
            case 2, 3 -> byteOf(pm1Enable, offset - 2);
            case 4, 5 -> byteOf(pm1Control, offset - 4);
            case 8, 9, 10, 11 -> byteOf(timerValue(), offset - 8);
            default -> 0;
        };
    }

    /** Applies a write to the PM block; returns whether it requested S5. */
    private boolean writePm(int port, int size, int value) {
        int offset = port - PM_BASE;
        int enBytes = 0, enValue = 0, cntBytes = 0, cntValue = 0;
        for (int i = 0; i < size; i++) {
            int b = (value >>> (8 * i)) & 0xFF;
            int at = offset + i;
            switch (at) {
                case 2, 3 -> { enBytes |= 0xFF << (8 * (at - 2)); enValue |= b << (8 * (at - 2)); }
                case 4, 5 -> { cntBytes |= 0xFF << (8 * (at - 4)); cntValue |= b << (8 * (at - 4)); }
                default -> { } // status bits are write-1-to-clear and none is set; the timer is read-only
            }
        }
        pm1Enable = (pm1Enable & ~enBytes) | (enValue & enBytes & PM1_EN_WRITABLE);
        if (cntBytes == 0) return false;
        int stored = PM1_CNT_STORED & cntBytes;
        pm1Control = (pm1Control & ~stored) | (cntValue & stored);
        boolean sleepRequested = (cntBytes & SLP_EN) != 0 && (cntValue & SLP_EN) != 0;
        int sleepType = (pm1Control & SLP_TYP_MASK) >>> SLP_TYP_SHIFT;
        return sleepRequested && sleepType == SLP_TYP_S5;
    }

    /** Applies a write to the reset control register; returns whether it starts a reset. */
    private boolean writeReset(int value) {
        resetControl = value & RESET_STORED;
        return (value & RESET_RST_CPU) != 0;
    }

    private static int byteOf(int register, int index) {
        return (register >>> (8 * index)) & 0xFF;
    }
}
