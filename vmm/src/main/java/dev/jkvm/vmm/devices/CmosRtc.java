package dev.jkvm.vmm.devices;

import dev.jkvm.vmm.memory.GuestLayout;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;

/**
 * The Motorola MC146818 real-time clock and its battery-backed CMOS RAM, as a PC decodes it
 * (index port 0x70, data port 0x71) and as QEMU's {@code mc146818rtc} fills it. Time is read
 * from the {@link Clock} in its zone (QEMU's default {@code -rtc base=utc} corresponds to a UTC
 * clock); a guest that sets the time moves an offset, not the host clock.
 *
 * <p>Not modelled: the periodic, alarm and update-ended interrupts on IRQ 8 and the flags of
 * register C, which therefore always reads 0; alarm registers are plain storage.
 */
public final class CmosRtc implements PioDevice {
    public static final int INDEX_PORT = 0x70;
    public static final int DATA_PORT = 0x71;
    public static final int PORT_COUNT = 2;

    // MC146818 datasheet, "Address Map": time, calendar and control registers.
    private static final int SECONDS = 0x00;
    private static final int MINUTES = 0x02;
    private static final int HOURS = 0x04;
    private static final int DAY_OF_WEEK = 0x06;
    private static final int DAY_OF_MONTH = 0x07;
    private static final int MONTH = 0x08;
    private static final int YEAR = 0x09;
    private static final int REGISTER_A = 0x0A;
    private static final int REGISTER_B = 0x0B;
    private static final int REGISTER_C = 0x0C;
    private static final int REGISTER_D = 0x0D;
    /** The IBM PC/AT century byte; QEMU keeps the century there (RTC_CENTURY). */
    private static final int CENTURY = 0x32;

    /** Register A bit 7, update in progress, is read-only. */
    private static final int A_WRITABLE = 0x7F;
    private static final int A_UPDATE_IN_PROGRESS = 0x80;
    /** Register A bits 6:4, the divider; 010 is the 32.768 kHz time base running normally. */
    private static final int A_DIVIDER = 0x70;
    private static final int A_DIVIDER_RUNNING = 0x20;
    /** Datasheet "UIP": set 244 µs (t_BUC) before each once-a-second update with a 32.768 kHz base. */
    private static final int UPDATE_WARNING_NANOS = 244_000;
    /** QEMU's reset value: 32.768 kHz time base (DV = 010), 1024 Hz periodic rate (RS = 0110). */
    private static final int A_RESET = 0x26;
    private static final int B_SET = 0x80;
    private static final int B_UPDATE_ENDED_INTERRUPT = 0x10;
    private static final int B_BINARY = 0x04;
    private static final int B_24_HOUR = 0x02;
    /** QEMU's reset value: BCD, 24-hour. */
    private static final int B_RESET = B_24_HOUR;
    private static final int HOUR_PM = 0x80;
    /** Register D bit 7, valid RAM and time: the battery is good. */
    private static final int D_VALID_RAM_AND_TIME = 0x80;
    private static final int INDEX_MASK = 0x7F; // bit 7 of the index port masks NMI on a PC

    // CMOS bytes the PC BIOS convention (and SeaBIOS, which reads them under QEMU) assigns to memory.
    private static final int BASE_MEMORY_KIB = 0x15;
    private static final int EXTENDED_MEMORY_KIB = 0x17;
    private static final int EXTENDED_MEMORY_KIB_COPY = 0x30;
    private static final int MEMORY_ABOVE_16M_64K = 0x34;
    private static final int MEMORY_ABOVE_4G_64K = 0x5B;
    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;
    private static final long CONVENTIONAL_MEMORY_KIB = 640;

    private final Clock clock;
    private final byte[] storage = new byte[128];
    private int index;
    private int registerA = A_RESET;
    private int registerB = B_RESET;
    /** Guest-set time minus clock time. */
    private Duration offset = Duration.ZERO;
    /** While register B's SET bit is on the clock stands still, holding what the guest writes. */
    private TimeFields halted;

    private record TimeFields(int second, int minute, int hour, int day, int month, int year) {
        static TimeFields of(LocalDateTime t) {
            return new TimeFields(t.getSecond(), t.getMinute(), t.getHour(), t.getDayOfMonth(), t.getMonthValue(), t.getYear());
        }

        LocalDateTime toDateTime() {
            return LocalDateTime.of(year, month, day, hour, minute, second);
        }
    }

    /**
     * {@code ramSize} is all guest RAM; the part above {@link GuestLayout#MMIO_HOLE_START} (3 GiB)
     * lives above 4 GiB. QEMU's {@code pc} machine splits the same way from 3.5 GiB of RAM up, and
     * keeps 3–3.5 GiB entirely low, so the bytes differ from QEMU's only in that band.
     */
    public CmosRtc(long ramSize, Clock clock) {
        this.clock = clock;
        long below4g = Math.min(ramSize, GuestLayout.MMIO_HOLE_START);
        long above4g = ramSize - below4g;
        putLittleEndian(BASE_MEMORY_KIB, 2, Math.min(below4g / KIB, CONVENTIONAL_MEMORY_KIB));
        long extendedKib = Math.min(Math.max(below4g - MIB, 0) / KIB, 0xFFFF);
        putLittleEndian(EXTENDED_MEMORY_KIB, 2, extendedKib);
        putLittleEndian(EXTENDED_MEMORY_KIB_COPY, 2, extendedKib);
        putLittleEndian(MEMORY_ABOVE_16M_64K, 2, Math.min(Math.max(below4g - 16 * MIB, 0) / (64 * KIB), 0xFFFF));
        putLittleEndian(MEMORY_ABOVE_4G_64K, 3, Math.min(above4g / (64 * KIB), 0xFF_FFFF));
    }

    /** Multi-byte accesses reach consecutive ports, one byte each; bytes past 0x71 read all ones. */
    @Override
    public synchronized int read(int port, int size) {
        int value = 0;
        for (int i = 0; i < size; i++) {
            int b = port + i == DATA_PORT ? readRegister(index) : 0xFF; // the index port is write-only
            value |= b << (8 * i);
        }
        return value;
    }

    @Override
    public synchronized void write(int port, int size, int value) {
        for (int i = 0; i < size; i++) {
            int b = (value >>> (8 * i)) & 0xFF;
            if (port + i == INDEX_PORT) index = b & INDEX_MASK;
            else if (port + i == DATA_PORT) writeRegister(index, b);
        }
    }

    private int readRegister(int register) {
        return switch (register) {
            case SECONDS, MINUTES, HOURS, DAY_OF_WEEK, DAY_OF_MONTH, MONTH, YEAR, CENTURY -> readTime(register);
            case REGISTER_A -> registerA | (updateInProgress() ? A_UPDATE_IN_PROGRESS : 0);
            case REGISTER_B -> registerB;
            case REGISTER_C -> 0;
            case REGISTER_D -> D_VALID_RAM_AND_TIME;
            default -> storage[register] & 0xFF;
        };
    }

    private void writeRegister(int register, int value) {
        switch (register) {
            case SECONDS, MINUTES, HOURS, DAY_OF_MONTH, MONTH, YEAR, CENTURY -> writeTime(register, value);
            case DAY_OF_WEEK, REGISTER_C, REGISTER_D -> { } // the weekday follows from the date; C and D are read-only
            case REGISTER_A -> registerA = value & A_WRITABLE;
            case REGISTER_B -> writeRegisterB(value);
            default -> storage[register] = (byte) value;
        }
    }

    private void writeRegisterB(int value) {
        if ((value & B_SET) != 0) {
            if (halted == null) halted = currentTime();
            value &= ~B_UPDATE_ENDED_INTERRUPT; // datasheet: setting SET clears UIE
        } else if (halted != null) {
            TimeFields set = halted;
            halted = null;
            setTime(set);
        }
        registerB = value;
    }

    /**
     * UIP follows the clock: on in the last 244 µs of every second, so a guest that waits for it
     * to clear waits at most that long, and one that waits for it to rise (to find a second
     * boundary) sees it once a second. Off while SET halts updates or the divider is stopped.
     */
    private boolean updateInProgress() {
        if (halted != null || (registerA & A_DIVIDER) != A_DIVIDER_RUNNING) return false;
        return clock.instant().getNano() >= 1_000_000_000 - UPDATE_WARNING_NANOS;
    }

    private TimeFields currentTime() {
        if (halted != null) return halted;
        return TimeFields.of(LocalDateTime.now(clock).plus(offset));
    }

    private int readTime(int register) {
        TimeFields t = currentTime();
        return switch (register) {
            case SECONDS -> encode(t.second());
            case MINUTES -> encode(t.minute());
            case HOURS -> encodeHour(t.hour());
            case DAY_OF_WEEK -> encode(dayOfWeek(t));
            case DAY_OF_MONTH -> encode(t.day());
            case MONTH -> encode(t.month());
            case YEAR -> encode(t.year() % 100);
            case CENTURY -> encode(t.year() / 100);
            default -> throw new IllegalStateException("not a time register: " + register);
        };
    }

    /** MC146818 day of week: 1 = Sunday through 7 = Saturday; 0 while a halted date is invalid. */
    private static int dayOfWeek(TimeFields t) {
        try {
            return t.toDateTime().getDayOfWeek().getValue() % 7 + 1;
        } catch (DateTimeException invalidDate) {
            return 0;
        }
    }

    private void writeTime(int register, int value) {
        TimeFields t = currentTime();
        TimeFields updated = switch (register) {
            case SECONDS -> new TimeFields(decode(value), t.minute(), t.hour(), t.day(), t.month(), t.year());
            case MINUTES -> new TimeFields(t.second(), decode(value), t.hour(), t.day(), t.month(), t.year());
            case HOURS -> new TimeFields(t.second(), t.minute(), decodeHour(value), t.day(), t.month(), t.year());
            case DAY_OF_MONTH -> new TimeFields(t.second(), t.minute(), t.hour(), decode(value), t.month(), t.year());
            case MONTH -> new TimeFields(t.second(), t.minute(), t.hour(), t.day(), decode(value), t.year());
            case YEAR -> new TimeFields(t.second(), t.minute(), t.hour(), t.day(), t.month(), t.year() / 100 * 100 + decode(value));
            case CENTURY -> new TimeFields(t.second(), t.minute(), t.hour(), t.day(), t.month(), decode(value) * 100 + t.year() % 100);
            default -> throw new IllegalStateException("not a writable time register: " + register);
        };
        if (halted != null) halted = updated; // checked when SET is cleared: fields pass through invalid dates
        else setTime(updated);
    }

    /**
     * A time that is no date (e.g. month 13) is ignored: the clock keeps running as it was. The
     * offset is whole seconds so that seconds still roll over when UIP says they do.
     */
    private void setTime(TimeFields t) {
        try {
            offset = Duration.between(LocalDateTime.now(clock).truncatedTo(ChronoUnit.SECONDS), t.toDateTime());
        } catch (DateTimeException invalidDate) {
            // keep the previous offset
        }
    }

    private boolean binary() {
        return (registerB & B_BINARY) != 0;
    }

    private int encode(int value) {
        return binary() ? value : (value / 10) << 4 | value % 10;
    }

    private int decode(int value) {
        return binary() ? value : (value >>> 4) * 10 + (value & 0x0F);
    }

    /** Datasheet: in 12-hour mode the hours run 1–12 with bit 7 set for PM. */
    private int encodeHour(int hour) {
        if ((registerB & B_24_HOUR) != 0) return encode(hour);
        int twelveHour = hour % 12 == 0 ? 12 : hour % 12;
        return encode(twelveHour) | (hour >= 12 ? HOUR_PM : 0);
    }

    private int decodeHour(int value) {
        if ((registerB & B_24_HOUR) != 0) return decode(value);
        int twelveHour = decode(value & ~HOUR_PM);
        return twelveHour % 12 + ((value & HOUR_PM) != 0 ? 12 : 0);
    }

    private void putLittleEndian(int register, int width, long value) {
        for (int i = 0; i < width; i++) storage[register + i] = (byte) (value >>> (8 * i));
    }
}
