package dev.jkvm.vmm.emulated.irq;

import dev.jkvm.vmm.devices.PioDevice;

/**
 * The PC's cascaded 8259A pair (Intel 8259A datasheet) as KVM's in-kernel model (i8259.c)
 * presents it: master at ports 0x20/0x21, slave at 0xA0/0xA1 on the master's IRQ 2, and the
 * edge/level control registers (ELCR) at 0x4D0/0x4D1. ICW1-ICW4, OCW1 (mask), OCW2
 * (non-specific, specific and rotating EOI, set priority), OCW3 (read IRR/ISR, poll, special
 * mask), auto-EOI and special fully nested mode; edge inputs unless ELCR says level.
 *
 * <p>Where KVM departs from the datasheet, this follows KVM (IrqChipKvmOracleTest compares the
 * two), so a guest sees the same 8259 on both accelerators: ICW1 keeps ISR (only the in-service
 * bits of pending edge requests are cleared), keeps the vector base, and keeps auto-EOI and
 * special fully nested mode when ICW4 follows; single mode is not supported (ICW3 is always
 * expected); a poll read acknowledges without setting ISR (returns 0x80 | IRQ, or 0x07 when
 * nothing is pending); the slave's request reaches the master as a fresh edge on IRQ 2 at every
 * update, so a second slave request is not lost behind the first. QEMU differs in these
 * (IrqChipQemuOracleTest compares only what the two share).
 *
 * <p>API: {@link #setIrq} drives ISA IRQ 0..15; the INTR output goes to the BSP's LINT0 through
 * {@link ExtIntSource} (the LAPIC calls {@link #acknowledge} in the CPU's interrupt-acknowledge
 * path, which returns the vector); {@link #onOutputChange} tells the LAPIC that INTR may have
 * risen. Register it for ports {@link #MASTER_COMMAND}+2, {@link #SLAVE_COMMAND}+2 and
 * {@link #ELCR}+2. Thread-safe; the output callback runs without the lock.
 *
 * <p>Not modelled: the 8080/8085 mode (ICW1 bit 2 and the call-address bytes), buffered mode,
 * and ICW1's level-triggered bit (edge/level comes from ELCR, as on PCs since the PIIX).
 */
public final class Pic8259 implements PioDevice, ExtIntSource {
    public static final int MASTER_COMMAND = 0x20, MASTER_DATA = 0x21, SLAVE_COMMAND = 0xA0, SLAVE_DATA = 0xA1;
    public static final int ELCR = 0x4D0;
    /** The slave's INT output is master input 2. */
    private static final int CASCADE_IRQ = 2;

    /** One 8259A. */
    private static final class Chip {
        final int elcrMask;
        int lastIrr;   // input levels seen, for edge detection
        int irr, isr, imr;
        int priorityAdd;  // lowest-priority rotation: IRQ (priorityAdd) has the highest priority
        int irqBase;
        boolean readIsr, poll, specialMask, autoEoi, rotateOnAutoEoi, specialFullyNested, init4;
        int initState;   // 0 ready, 1 expects ICW2, 2 ICW3, 3 ICW4
        int elcr;

        Chip(int elcrMask) { this.elcrMask = elcrMask; }

        /** ICW1, as KVM's kvm_pic_reset: see the class comment for what survives it. */
        void icw1(int v) {
            init4 = (v & 1) != 0;
            int edgeRequests = irr & ~elcr;
            lastIrr = 0;
            irr &= elcr;
            imr = 0;
            priorityAdd = 0;
            specialMask = false;
            readIsr = false;
            if (!init4) {
                specialFullyNested = false;
                autoEoi = false;
            }
            initState = 1;
            isr &= ~edgeRequests;
        }

        void setInput(int irq, boolean level) {
            int bit = 1 << irq;
            if ((elcr & bit) != 0) {
                if (level) {
                    irr |= bit;
                    lastIrr |= bit;
                } else {
                    irr &= ~bit;
                    lastIrr &= ~bit;
                }
            } else if (level) {
                if ((lastIrr & bit) == 0) irr |= bit;  // a rising edge
                lastIrr |= bit;
            } else {
                lastIrr &= ~bit;
            }
        }

        /** Priority rank (0 highest) of the highest set bit of {@code mask} under rotation, 8 when none. */
        int priority(int mask) {
            if ((mask & 0xFF) == 0) return 8;
            int p = 0;
            while ((mask & (1 << ((p + priorityAdd) & 7))) == 0) p++;
            return p;
        }

        /** The IRQ this chip would signal now (request above everything in service), or -1. */
        int pendingIrq(boolean master) {
            int p = priority(irr & ~imr);
            if (p == 8) return -1;
            int inService = isr;
            if (specialMask) inService &= ~imr;
            // Special fully nested mode: the slave may interrupt its own in-service cascade.
            if (specialFullyNested && master) inService &= ~(1 << CASCADE_IRQ);
            return p < priority(inService) ? (p + priorityAdd) & 7 : -1;
        }

        void acknowledge(int irq) {
            int bit = 1 << irq;
            if (autoEoi) {
                if (rotateOnAutoEoi) priorityAdd = (irq + 1) & 7;
            } else {
                isr |= bit;
            }
            if ((elcr & bit) == 0) irr &= ~bit;  // a level request stays until the input falls
        }

        boolean nonSpecificEoi(boolean rotate) {
            int p = priority(isr);
            if (p == 8) return false;
            int irq = (p + priorityAdd) & 7;
            isr &= ~(1 << irq);
            if (rotate) priorityAdd = (irq + 1) & 7;
            return true;
        }

        /** Command port write; returns whether the outputs must be recomputed (where KVM calls pic_update_irq). */
        boolean writeCommand(int v) {
            if ((v & 0x10) != 0) {            // ICW1
                icw1(v);
                return false;
            }
            if ((v & 0x08) != 0) {            // OCW3
                if ((v & 0x04) != 0) poll = true;
                if ((v & 0x02) != 0) readIsr = (v & 1) != 0;
                if ((v & 0x40) != 0) specialMask = (v & 0x20) != 0;
                return false;
            }
            int irq = v & 7;                  // OCW2
            switch (v >>> 5) {
                case 0, 4 -> {
                    rotateOnAutoEoi = (v >>> 5) == 4;
                    return false;
                }
                case 1 -> { return nonSpecificEoi(false); }
                case 5 -> { return nonSpecificEoi(true); }
                case 3 -> isr &= ~(1 << irq);
                case 6 -> priorityAdd = (irq + 1) & 7;
                case 7 -> {
                    isr &= ~(1 << irq);
                    priorityAdd = (irq + 1) & 7;
                }
                default -> { return false; }  // 2: no operation
            }
            return true;
        }

        /** Data port write; returns whether the outputs must be recomputed. */
        boolean writeData(int v) {
            switch (initState) {
                case 0 -> {                                                  // OCW1
                    imr = v;
                    return true;
                }
                case 1 -> {                                                  // ICW2
                    irqBase = v & 0xF8;
                    initState = 2;
                }
                case 2 -> initState = init4 ? 3 : 0;                         // ICW3: wiring is fixed
                default -> {                                                 // ICW4
                    specialFullyNested = (v & 0x10) != 0;
                    autoEoi = (v & 0x02) != 0;
                    initState = 0;
                }
            }
            return false;
        }
    }

    private final Chip master = new Chip(0xF8);  // IRQ 0, 1, 2 cannot be level (ELCR)
    private final Chip slave = new Chip(0xDE);   // IRQ 8 and 13 cannot be level
    private volatile Runnable outputListener = () -> { };
    /** INTR, volatile so the BSP's LAPIC can poll it without the lock between blocks. */
    private volatile boolean output;

    /** Called (without the PIC's lock) whenever INTR may have risen; the BSP's LAPIC wakes its CPU. */
    public void onOutputChange(Runnable listener) { this.outputListener = listener; }

    /** Drives ISA IRQ {@code irq} (0..15); IRQ 2 is the cascade and not an input of its own. */
    public void setIrq(int irq, boolean level) {
        if (irq < 0 || irq > 15 || irq == CASCADE_IRQ) return;
        boolean raised;
        synchronized (this) {
            if (irq < 8) master.setInput(irq, level); else slave.setInput(irq - 8, level);
            raised = update();
        }
        if (raised) outputListener.run();
    }

    /**
     * Recomputes the cascade and INTR (KVM's pic_update_irq); returns whether INTR is now high
     * (the LAPIC should look). A pending slave request is a new edge on master IRQ 2 each time.
     */
    private boolean update() {
        if (slave.pendingIrq(false) >= 0) {
            master.setInput(CASCADE_IRQ, true);
            master.setInput(CASCADE_IRQ, false);
        }
        output = master.pendingIrq(true) >= 0;
        return output;
    }

    @Override
    public boolean hasInterrupt() { return output; }

    @Override
    public synchronized int peekVector() {
        int irq = master.pendingIrq(true);
        if (irq < 0) return -1;
        if (irq != CASCADE_IRQ) return master.irqBase + irq;
        int irq2 = slave.pendingIrq(false);
        return irq2 >= 0 ? slave.irqBase + irq2 : slave.irqBase + 7;
    }

    @Override
    public int acknowledge() {
        int vector;
        boolean raised;
        synchronized (this) {
            vector = acknowledgeLocked();
            raised = update();
        }
        if (raised) outputListener.run();
        return vector;
    }

    /** The INTA sequence: with no request left the 8259 answers the spurious IRQ 7 of the chip asked. */
    private int acknowledgeLocked() {
        int irq = master.pendingIrq(true);
        if (irq < 0) return master.irqBase + 7;
        master.acknowledge(irq);
        if (irq != CASCADE_IRQ) return master.irqBase + irq;
        int irq2 = slave.pendingIrq(false);
        if (irq2 < 0) return slave.irqBase + 7;
        slave.acknowledge(irq2);
        return slave.irqBase + irq2;
    }

    @Override
    public int read(int port, int size) {
        int value;
        boolean raised = false;
        synchronized (this) {
            value = switch (port) {
                case MASTER_COMMAND -> readCommand(master, true);
                case SLAVE_COMMAND -> readCommand(slave, false);
                case MASTER_DATA -> master.imr;
                case SLAVE_DATA -> slave.imr;
                case ELCR -> master.elcr;
                case ELCR + 1 -> slave.elcr;
                default -> 0xFF;
            };
            if ((port == MASTER_COMMAND || port == SLAVE_COMMAND) && polled) {
                polled = false;
                raised = update();
            }
        }
        if (raised) outputListener.run();
        return value & 0xFF;
    }

    private boolean polled;

    /**
     * OCW3 selects IRR or ISR; after a poll command the read takes the request (KVM's
     * pic_poll_read: IRR cleared, ISR not set, a poll of the slave also clears the master's
     * cascade bits) and answers 0x80 | IRQ, or 0x07 with nothing pending.
     */
    private int readCommand(Chip chip, boolean isMaster) {
        if (!chip.poll) return chip.readIsr ? chip.isr : chip.irr;
        chip.poll = false;
        polled = true;
        int irq = chip.pendingIrq(isMaster);
        if (irq < 0) return 0x07;
        if (!isMaster) {
            master.isr &= ~(1 << CASCADE_IRQ);
            master.irr &= ~(1 << CASCADE_IRQ);
        }
        chip.irr &= ~(1 << irq);
        chip.isr &= ~(1 << irq);
        return 0x80 | irq;
    }

    @Override
    public void write(int port, int size, int value) {
        int v = value & 0xFF;
        boolean raised;
        synchronized (this) {
            boolean changed = switch (port) {
                case MASTER_COMMAND -> master.writeCommand(v);
                case SLAVE_COMMAND -> slave.writeCommand(v);
                case MASTER_DATA -> master.writeData(v);
                case SLAVE_DATA -> slave.writeData(v);
                case ELCR -> {
                    master.elcr = v & master.elcrMask;
                    yield false;
                }
                case ELCR + 1 -> {
                    slave.elcr = v & slave.elcrMask;
                    yield false;
                }
                default -> false;
            };
            raised = changed && update();
        }
        if (raised) outputListener.run();
    }

    /** Inspection and tests: the registers of the master (chip 0) or slave (chip 1). */
    public synchronized int irr(int chip) { return chip == 0 ? master.irr : slave.irr; }

    public synchronized int isr(int chip) { return chip == 0 ? master.isr : slave.isr; }

    public synchronized int imr(int chip) { return chip == 0 ? master.imr : slave.imr; }
}
