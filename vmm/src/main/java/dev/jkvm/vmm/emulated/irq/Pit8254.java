package dev.jkvm.vmm.emulated.irq;

import dev.jkvm.vmm.devices.PioDevice;
import dev.jkvm.vmm.emulated.time.GuestClock;

import java.util.function.Consumer;

/**
 * The 8254 programmable interval timer (Intel 8254 datasheet) at ports 0x40-0x43, and port 0x61
 * (the PC's system control port B: bit 0 gate of channel 2, bit 1 speaker data enable, bit 4
 * refresh toggle, bit 5 OUT2). Counters derive from GuestClock at 1,193,182 Hz; nothing ticks in
 * between.
 *
 * <p>Model: KVM's in-kernel i8254 (which shares QEMU's counting rules), so the guest sees the
 * same counts, OUT levels and status bytes on both accelerators: modes 0-5, counter latch and
 * read-back (count and status), LSB / MSB / LSB-then-MSB access, the gate (a rising edge
 * restarts modes 1, 2, 3 and 5; modes 0 and 4 ignore it, as KVM and QEMU do). OUT follows KVM's
 * pit_get_out, which for modes 2, 4 and 5 is high only during the reload clock (the datasheet's
 * OUT is the inverse: low for that one clock); the edges an interrupt sees are at the same
 * instants. BCD counting is not modelled: the BCD bit is stored and read back in the status but
 * counts are binary (KVM does the same). The status byte's null-count bit reads 0. Reading the
 * control port 0x43 gives 0 (KVM leaves the guest's value unwritten, QEMU returns 0). Port 0x61's
 * refresh bit toggles every 15.085 µs of guest time (KVM derives it from host time in 16.4 µs
 * steps; code that waits for toggles only counts them).
 *
 * <p>Channel 0 is the timer interrupt: a pulse on {@link #onChannel0Pulse}'s line (the wiring
 * sends it to PIC IRQ 0 and I/O APIC pin 2) once at terminal count in modes 0, 1 and 4 and at
 * every period in modes 2 and 3, as KVM injects it. It fires through {@link TimerSource}: the
 * {@link PlatformTimer} calls {@link #tick} when {@link #nextDeadline} has passed (register the
 * PIT with it after construction via {@link #usePlatformTimer}). Periods the host missed are
 * coalesced into one pulse (KVM's default re-injects them instead).
 *
 * <p>Register for ports {@link #BASE}+4 and {@link #PORT_B}+1. Thread-safe.
 */
public final class Pit8254 implements PioDevice, TimerSource {
    public static final int BASE = 0x40;
    public static final int COMMAND = 0x43;
    public static final int PORT_B = 0x61;
    public static final long HZ = 1_193_182;

    private static final int RW_LATCH = 0, RW_LSB = 1, RW_MSB = 2, RW_WORD = 3;

    private final class Channel {
        final int index;
        int count = 0x10000;     // the loaded count, 0 meaning 65536
        long loadTime;           // GuestClock nanos when counting from count began
        int rwMode = RW_WORD, mode = 3;
        boolean bcd;
        boolean gate;
        // Reads and writes of LSB-then-MSB alternate; "state" says which byte comes next.
        boolean readMsbNext, writeMsbNext;
        int writeLatch;
        boolean countLatched;
        int latchedCount;
        boolean latchedMsbNext;  // for a latched word: LSB already read
        int latchedBytesLeft;
        boolean statusLatched;
        int status;

        Channel(int index) {
            this.index = index;
            this.gate = index != 2;  // channels 0 and 1 gated high on a PC; channel 2's gate is port 0x61 bit 0
        }

        long ticks(long now) {
            long d = now - loadTime;
            if (d <= 0) return 0;
            return (d / GuestClock.NANOS_PER_SECOND) * HZ + (d % GuestClock.NANOS_PER_SECOND) * HZ / GuestClock.NANOS_PER_SECOND;
        }

        /** Nanos after loadTime at which {@code ticks} PIT clocks have elapsed (rounded up). */
        long nanosAt(long ticks) {
            return (ticks / HZ) * GuestClock.NANOS_PER_SECOND + ((ticks % HZ) * GuestClock.NANOS_PER_SECOND + HZ - 1) / HZ;
        }

        int counter(long now) {
            long d = ticks(now);
            return switch (mode) {
                case 0, 1, 4, 5 -> (int) ((count - d) & 0xFFFF);
                case 3 -> (int) (count - (2 * d) % count) & 0xFFFF;   // counts down by two each clock
                default -> (int) (count - d % count) & 0xFFFF;        // mode 2
            };
        }

        boolean out(long now) {
            long d = ticks(now);
            return switch (mode) {
                case 0 -> d >= count;
                case 1 -> d < count;
                case 2 -> d != 0 && d % count == 0;
                case 3 -> d % count < (count + 1) / 2;
                default -> d == count;   // 4, 5
            };
        }

        void load(int value, long now) {
            count = value == 0 ? 0x10000 : value;
            loadTime = now;
            if (index == 0) armChannel0();
        }

        void latchCount(long now) {
            if (countLatched) return;  // a latch not yet read is kept (datasheet)
            countLatched = true;
            latchedCount = counter(now);
            latchedBytesLeft = rwMode == RW_WORD ? 2 : 1;
            latchedMsbNext = rwMode == RW_MSB;
        }

        void latchStatus(long now) {
            if (statusLatched) return;
            statusLatched = true;
            status = (out(now) ? 0x80 : 0) | (rwMode << 4) | (mode << 1) | (bcd ? 1 : 0);
        }

        int read(long now) {
            if (statusLatched) {
                statusLatched = false;
                return status;
            }
            if (countLatched) {
                int b;
                if (latchedMsbNext) {
                    b = latchedCount >>> 8;
                } else {
                    b = latchedCount & 0xFF;
                    latchedMsbNext = true;
                }
                if (--latchedBytesLeft == 0) countLatched = false;
                return b & 0xFF;
            }
            int c = counter(now);
            return switch (rwMode) {
                case RW_LSB -> c & 0xFF;
                case RW_MSB -> c >>> 8;
                default -> {
                    boolean msb = readMsbNext;
                    readMsbNext = !readMsbNext;
                    yield msb ? c >>> 8 : c & 0xFF;
                }
            };
        }

        void write(int v, long now) {
            switch (rwMode) {
                case RW_LSB -> load(v, now);
                case RW_MSB -> load(v << 8, now);
                default -> {
                    if (!writeMsbNext) {
                        writeLatch = v;
                        writeMsbNext = true;
                    } else {
                        load(writeLatch | (v << 8), now);
                        writeMsbNext = false;
                    }
                }
            }
        }

        void control(int v) {
            int rw = (v >>> 4) & 3;
            if (rw == RW_LATCH) {
                latchCount(clock.nanos());
                return;
            }
            rwMode = rw;
            readMsbNext = false;
            writeMsbNext = false;
            int m = (v >>> 1) & 7;
            mode = m >= 6 ? m - 4 : m;   // 6 and 7 are aliases of 2 and 3
            bcd = (v & 1) != 0;
        }

        void setGate(boolean high, long now) {
            // Modes 1, 2, 3, 5: a rising gate edge (re)starts the count; modes 0 and 4 ignore it as KVM does.
            if (!gate && high && mode != 0 && mode != 4) {
                loadTime = now;
                if (index == 0) armChannel0();
            }
            gate = high;
        }
    }

    private final GuestClock clock;
    private final Channel[] channels = new Channel[3];
    private boolean speakerDataOn;
    private volatile long channel0Deadline = Long.MAX_VALUE;
    private long channel0Pulses;  // pulses already fired since the last load (k of load + k * count)
    private volatile Consumer<Boolean> channel0Line = level -> { };
    private volatile PlatformTimer timer;

    public Pit8254(GuestClock clock) {
        this.clock = clock;
        long now = clock.nanos();
        for (int i = 0; i < 3; i++) {
            channels[i] = new Channel(i);
            channels[i].loadTime = now;
        }
        // Reset state as KVM/QEMU: every channel mode 3 with count 65536 — but KVM starts no
        // channel 0 timer until the guest writes a count, so no pulses until then.
    }

    /** Where channel 0's output goes (the wiring: PIC IRQ 0 and I/O APIC pin 2). */
    public void onChannel0Pulse(Consumer<Boolean> line) { this.channel0Line = line; }

    /** Channel 0 deadlines are handed to {@code platformTimer} from now on. */
    public void usePlatformTimer(PlatformTimer platformTimer) {
        this.timer = platformTimer;
        long d = channel0Deadline;
        if (d != Long.MAX_VALUE) platformTimer.schedule(this, d);
    }

    /** Holding the monitor: the next pulse after the load of channel 0. */
    private void armChannel0() {
        channel0Pulses = 0;
        long d = pulseTime(1);
        channel0Deadline = d;
        PlatformTimer t = timer;
        if (t != null && d != Long.MAX_VALUE) t.schedule(this, d);
    }

    /** GuestClock time of channel 0's k-th pulse since its load, or MAX_VALUE when there is none. */
    private long pulseTime(long k) {
        Channel c = channels[0];
        boolean periodic = c.mode == 2 || c.mode == 3;
        if (!periodic && k > 1) return Long.MAX_VALUE;
        if (c.mode == 5) return Long.MAX_VALUE;  // hardware-triggered strobe: no gate edges on channel 0
        return c.loadTime + c.nanosAt(k * c.count);
    }

    @Override
    public long nextDeadline() { return channel0Deadline; }

    @Override
    public void tick(long now) {
        long next;
        synchronized (this) {
            long d = channel0Deadline;
            if (d == Long.MAX_VALUE || now < d) return;
            Channel c = channels[0];
            long k = c.ticks(now) / c.count;  // clocks completed: pulses due up to now
            channel0Pulses = Math.max(channel0Pulses + 1, k);
            next = pulseTime(channel0Pulses + 1);
            channel0Deadline = next;
        }
        Consumer<Boolean> line = channel0Line;
        line.accept(true);
        line.accept(false);
        PlatformTimer t = timer;
        if (t != null && next != Long.MAX_VALUE) t.schedule(this, next);
    }

    @Override
    public int read(int port, int size) {
        long now = clock.nanos();
        synchronized (this) {
            if (port == PORT_B) {
                Channel c2 = channels[2];
                // Bit 4 toggles with the DRAM refresh (every 15.085 µs on a PC); KVM derives it from time the same way.
                int refresh = (int) ((now / 15_085) & 1);
                return (c2.gate ? 1 : 0) | (speakerDataOn ? 2 : 0) | (refresh << 4) | (c2.out(now) ? 0x20 : 0);
            }
            int i = port - BASE;
            if (i < 0 || i > 2) return 0;   // the control word register is write-only; KVM and QEMU read 0
            return channels[i].read(now);
        }
    }

    @Override
    public void write(int port, int size, int value) {
        long now = clock.nanos();
        int v = value & 0xFF;
        synchronized (this) {
            if (port == PORT_B) {
                channels[2].setGate((v & 1) != 0, now);
                speakerDataOn = (v & 2) != 0;
                return;
            }
            if (port == COMMAND) {
                int select = v >>> 6;
                if (select == 3) {
                    // Read-back (datasheet "Read-Back Command"): bit 5 clear latches counts,
                    // bit 4 clear latches status, bits 1-3 select channels 0-2.
                    for (int i = 0; i < 3; i++) {
                        if ((v & (2 << i)) == 0) continue;
                        if ((v & 0x20) == 0) channels[i].latchCount(now);
                        if ((v & 0x10) == 0) channels[i].latchStatus(now);
                    }
                } else {
                    channels[select].control(v);
                }
                return;
            }
            int i = port - BASE;
            if (i >= 0 && i <= 2) channels[i].write(v, now);
        }
    }

    /** Inspection and tests: OUT of {@code channel} now. */
    public synchronized boolean out(int channel) { return channels[channel].out(clock.nanos()); }
}
