package dev.jkvm.vmm.emulated.irq;

import dev.jkvm.vmm.devices.MmioDevice;

/**
 * The I/O APIC as KVM's in-kernel model presents it (Intel 82093AA datasheet): version 0x11 with
 * 24 redirection entries, reached through IOREGSEL (base + 0x00) and IOWIN (base + 0x10).
 *
 * <p>API: {@link #setLevel} drives input pin {@code pin} (the GSI); {@link #eoi} is the LAPICs'
 * EOI broadcast (wire it with {@code apicBus.onEoi(ioapic::eoi)}); {@link #read}/{@link #write}
 * are the MMIO window, addresses absolute (register it at {@link #DEFAULT_BASE}, length
 * {@link #MMIO_SIZE}). Thread-safe; no lock is held while a message goes to a LAPIC.
 *
 * <p>Semantics follow KVM's ioapic.c: an edge is a rising level and is delivered once (a second
 * rising edge before the line fell is coalesced); a level-triggered input is delivered while
 * high unless masked or remote IRR is set; remote IRR is set when a LAPIC accepted a
 * level-triggered message and cleared by the LAPIC's EOI for that vector (then the input, if
 * still high, is delivered again); rewriting an entry as edge-triggered clears remote IRR (Linux
 * relies on it to simulate an EOI). Polarity is stored but not applied, as in KVM: inputs are
 * active high. Delivery status always reads idle.
 */
public final class IoApic implements MmioDevice {
    public static final long DEFAULT_BASE = 0xFEC0_0000L;
    public static final long MMIO_SIZE = 0x1000;
    public static final int PINS = 24;
    /** 82093AA version register: version 0x11, maximum redirection entry (PINS - 1) in bits 23:16. */
    public static final int VERSION = ((PINS - 1) << 16) | 0x11;

    /** The two registers of the window; version 0x11 has no EOI register (0x40 is ignored, as in KVM). */
    static final int IOREGSEL = 0x00, IOWIN = 0x10;
    static final int REG_ID = 0x00, REG_VERSION = 0x01, REG_ARBITRATION = 0x02, REG_REDIRECTION = 0x10;

    private static final long VECTOR = 0xFF, DELIVERY_STATUS = 1L << 12, REMOTE_IRR = 1L << 14,
            LEVEL = 1L << 15, MASKED = 1L << 16, LOGICAL = 1L << 11;

    private final long base;
    private final ApicBus bus;
    private final long[] redirection = new long[PINS];
    private int selected;
    private int id;
    /**
     * KVM's irr: bit set while the input is high (set on the rising level, cleared when it falls).
     * For an edge entry it stays set after delivery, which is what makes a second "rise" without a
     * fall a coalesced no-op; an edge that arrives while masked stays undelivered, as in KVM.
     */
    private int irr;
    private int levels;

    public IoApic(long base, ApicBus bus) {
        this.base = base;
        this.bus = bus;
        reset();
    }

    public synchronized void reset() {
        for (int i = 0; i < PINS; i++) redirection[i] = MASKED;
        selected = 0;
        id = 0;  // KVM's reset value; the MADT names the ID the firmware would have programmed
        irr = 0;
        levels = 0;
    }

    /** Drives input {@code pin} (0..23) high or low. */
    public void setLevel(int pin, boolean high) {
        if (pin < 0 || pin >= PINS) return;
        int bit = 1 << pin;
        synchronized (this) {
            levels = high ? levels | bit : levels & ~bit;
            long e = redirection[pin];
            boolean edge = (e & LEVEL) == 0;
            if (!high) {
                irr &= ~bit;
                return;
            }
            // An edge input already high has no new edge to deliver (coalesced); a level input
            // with remote IRR set is recorded and delivered after the EOI.
            if (edge && (irr & bit) != 0) return;
            irr |= bit;
        }
        service(pin);
    }

    /** Sends pin's message if its entry lets it through (KVM's ioapic_service). Call without the monitor. */
    private void service(int pin) {
        long e;
        synchronized (this) {
            e = redirection[pin];
            if ((irr & (1 << pin)) == 0) return;
            if ((e & MASKED) != 0 || ((e & LEVEL) != 0 && (e & REMOTE_IRR) != 0)) return;
            // Remote IRR goes up before the message leaves: the target may take the interrupt
            // and EOI it on its own thread before deliver returns, and that EOI must find it set.
            if ((e & LEVEL) != 0) redirection[pin] = e | REMOTE_IRR;
        }
        boolean level = (e & LEVEL) != 0;
        int dest = (int) (e >>> 56);
        boolean accepted = bus.deliver(dest, (e & LOGICAL) != 0, (int) (e >>> 8) & 7, (int) (e & VECTOR), level);
        if (level && !accepted) {
            // No LAPIC took it, so no EOI will come: KVM leaves remote IRR clear in that case.
            synchronized (this) {
                redirection[pin] &= ~REMOTE_IRR;
            }
        }
    }

    /** A LAPIC EOIed level-triggered {@code vector}: clear remote IRR, re-deliver inputs still high. */
    public void eoi(int vector) {
        int again = 0;
        synchronized (this) {
            for (int pin = 0; pin < PINS; pin++) {
                long e = redirection[pin];
                if ((e & VECTOR) != vector || (e & LEVEL) == 0) continue;
                redirection[pin] = e & ~REMOTE_IRR;
                if ((e & MASKED) == 0 && (irr & (1 << pin)) != 0) again |= 1 << pin;
            }
        }
        for (int pin = 0; again != 0; pin++, again >>>= 1) {
            if ((again & 1) != 0) service(pin);
        }
    }

    @Override
    public long read(long address, int size) {
        int offset = (int) (address - base) & 0xFF;
        long value;
        synchronized (this) {
            value = switch (offset) {
                case IOREGSEL -> selected;
                case IOWIN -> readIndirect() & 0xFFFF_FFFFL;
                default -> 0;
            };
        }
        return size >= 4 ? value : value & ((1L << (size * 8)) - 1);
    }

    private int readIndirect() {
        return switch (selected) {
            case REG_ID, REG_ARBITRATION -> (id & 0xF) << 24;
            case REG_VERSION -> VERSION;
            default -> {
                int index = (selected - REG_REDIRECTION) >>> 1;
                if (selected < REG_REDIRECTION || index >= PINS) yield 0xFFFF_FFFF;  // KVM: unmapped entries read all ones
                long e = redirection[index];
                yield (selected & 1) != 0 ? (int) (e >>> 32) : (int) e;
            }
        };
    }

    @Override
    public void write(long address, int size, long value) {
        int offset = (int) (address - base) & 0xFF;
        int v = (int) value;
        int serviceLevel = -1;
        synchronized (this) {
            switch (offset) {
                case IOREGSEL -> selected = v & 0xFF;
                case IOWIN -> serviceLevel = writeIndirect(v);
                default -> { }
            }
        }
        if (serviceLevel >= 0) service(serviceLevel);
    }

    /** Returns a pin to service now (an unmasked level entry whose input is high), else -1. */
    private int writeIndirect(int v) {
        switch (selected) {
            case REG_ID -> id = (v >>> 24) & 0xF;
            case REG_VERSION, REG_ARBITRATION -> { }
            default -> {
                int index = (selected - REG_REDIRECTION) >>> 1;
                if (selected < REG_REDIRECTION || index >= PINS) return -1;
                long old = redirection[index];
                long e = (selected & 1) != 0
                        ? (old & 0xFFFF_FFFFL) | ((long) v << 32)
                        : (old & ~0xFFFF_FFFFL) | (v & 0xFFFF_FFFFL);
                // Delivery status and remote IRR are read-only.
                e = (e & ~(DELIVERY_STATUS | REMOTE_IRR)) | (old & REMOTE_IRR);
                if ((e & LEVEL) == 0) e &= ~REMOTE_IRR;
                redirection[index] = e;
                if ((e & LEVEL) != 0 && (irr & (1 << index)) != 0 && (e & MASKED) == 0 && (e & REMOTE_IRR) == 0) return index;
            }
        }
        return -1;
    }

    /** The raw redirection entry (inspection and tests). */
    public synchronized long redirectionEntry(int pin) { return redirection[pin]; }

    /** Whether input {@code pin} is high now. */
    public synchronized boolean level(int pin) { return (levels & (1 << pin)) != 0; }
}
