package dev.jkvm.vmm.emulated.irq;

import dev.jkvm.vmm.emulated.cpu.CpuEvents;
import dev.jkvm.vmm.emulated.cpu.InterruptController;
import dev.jkvm.vmm.emulated.time.GuestClock;

/**
 * One vCPU's local APIC (Intel SDM Vol. 3 Ch. 10), as KVM's in-kernel LAPIC presents it: xAPIC
 * register page and x2APIC MSRs, TPR/PPR, IRR/ISR/TMR, EOI with the I/O APIC EOI broadcast for
 * level-triggered vectors, ESR, SVR, the six LVTs (timer, thermal, perf, LINT0, LINT1, error),
 * the timer in one-shot, periodic and TSC-deadline modes, and IPIs through {@link ApicBus}.
 *
 * <p>API beyond {@link InterruptController}:
 * <ul>
 *   <li>Created by {@link ApicBus#add}; {@link #apicId()} is the initial APIC ID.</li>
 *   <li>{@link #connectExtInt} (BSP only): the 8259 behind LINT0; {@link #extIntChanged} is
 *       called by the PIC when its output may have risen.</li>
 *   <li>Other threads reach it only through the bus ({@code accept*}); every method is safe from
 *       any thread. Locks: this LAPIC's monitor is never held while calling the bus, another
 *       LAPIC or the I/O APIC, so IPIs between CPUs and EOI broadcasts cannot deadlock.</li>
 * </ul>
 *
 * <p>What the LAPIC posts to its CPU ({@link CpuEvents}): INTERRUPT whenever
 * {@link #pendingInterrupt} may have become non-negative (an IRR bit above PPR was set, an EOI
 * or a TPR write unmasked one, the PIC output rose); NMI; INIT (the CPU then calls
 * {@link #reset}); SIPI with {@link CpuEvents#sipiVector} set first (the CPU ignores it unless
 * waiting for SIPI, as KVM does). The timer fires when someone calls {@link #tick}: the
 * {@link PlatformTimer} the bus was given, or the CPU itself after {@link #nextDeadline}.
 *
 * <p>Timer clock: KVM's LAPIC timer counts at 1 GHz before the divider (APIC_BUS_CYCLE_NS = 1),
 * so one count is {@code divisor} GuestClock nanoseconds; the kernel calibrates it against the
 * PIT, nothing assumes the rate.
 */
public final class LocalApic implements InterruptController, TimerSource {
    /** IA32_APIC_BASE bits (SDM §10.4.4, §10.12.1). */
    public static final long BASE_BSP = 1L << 8;
    public static final long BASE_EXTD = 1L << 10;
    public static final long BASE_EN = 1L << 11;
    public static final long DEFAULT_BASE = 0xFEE0_0000L;
    /** Physical address width we accept for the base (MAXPHYADDR 46 like KVM's usual CPUID). */
    private static final long BASE_ADDRESS_MASK = ((1L << 46) - 1) & ~0xFFFL;

    /** KVM's version register: version 0x14, max LVT entry 5 (six LVTs, no CMCI), no directed EOI. */
    public static final int VERSION = 0x0005_0014;

    /** Register offsets in the xAPIC page (SDM Table 10-1); x2APIC MSR = 0x800 + offset / 16. */
    public static final int REG_ID = 0x20, REG_VERSION = 0x30, REG_TPR = 0x80, REG_APR = 0x90, REG_PPR = 0xA0,
            REG_EOI = 0xB0, REG_RRD = 0xC0, REG_LDR = 0xD0, REG_DFR = 0xE0, REG_SVR = 0xF0, REG_ISR = 0x100,
            REG_TMR = 0x180, REG_IRR = 0x200, REG_ESR = 0x280, REG_LVT_CMCI = 0x2F0, REG_ICR_LOW = 0x300,
            REG_ICR_HIGH = 0x310, REG_LVT_TIMER = 0x320, REG_LVT_THERMAL = 0x330, REG_LVT_PERF = 0x340,
            REG_LVT_LINT0 = 0x350, REG_LVT_LINT1 = 0x360, REG_LVT_ERROR = 0x370, REG_TIMER_INITIAL = 0x380,
            REG_TIMER_CURRENT = 0x390, REG_TIMER_DIVIDE = 0x3E0, REG_SELF_IPI = 0x3F0;

    public static final int MSR_TSC_DEADLINE = 0x6E0;
    public static final int MSR_X2APIC_FIRST = 0x800;
    public static final int MSR_X2APIC_LAST = 0x8FF;

    /**
     * ESR bits (SDM §10.5.3) this model reports: an IPI with a vector below 16 (sent or received).
     * KVM reports none at all (its ESR always reads 0); the SDM's errors are kept here because
     * the kernel reads ESR after each IPI and only an actual illegal vector sets them.
     */
    public static final int ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
    public static final int ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6;

    public static final int LVT_MASKED = 1 << 16;
    private static final int LVT_TIMER_MODE_SHIFT = 17;
    public static final int TIMER_ONE_SHOT = 0, TIMER_PERIODIC = 1, TIMER_TSC_DEADLINE = 2;
    /** LVT timer mode 3 is reserved; KVM stores it and runs no timer in it. */
    private static final int TIMER_RESERVED = 3;
    /** LVT indexes, in register order from 0x320. */
    private static final int LVT_TIMER = 0, LVT_THERMAL = 1, LVT_PERF = 2, LVT_LINT0 = 3, LVT_LINT1 = 4, LVT_ERROR = 5;
    /**
     * Writable bits per LVT, KVM's apic_lvt_mask (SDM Figure 10-8 plus what KVM also lets through):
     * vector, mask and bit 12 in every LVT; the timer's mode (bits 17-18, mode 3 stored as written
     * and running no timer); delivery mode in thermal and perf; for LINT0/LINT1 delivery mode,
     * polarity, bit 14 and trigger. Bits 12 and 14 are read-only status on hardware; KVM stores
     * them, and the guest should see the same register on both accelerators.
     */
    private static final int[] LVT_WRITABLE = {0x710FF, 0x117FF, 0x117FF, 0x1F7FF, 0x1F7FF, 0x110FF};
    /** SVR: vector, APIC software enable (bit 8), focus check (bit 9); no EOI-broadcast suppression since VERSION does not offer it. */
    private static final int SVR_WRITABLE = 0x3FF;
    private static final int SVR_ENABLE = 1 << 8;
    /** x2APIC ICR bits that must be zero (KVM's X2APIC_ICR_RESERVED_BITS; SDM §10.12.9). */
    private static final long X2APIC_ICR_RESERVED = 0xFFF0_0000L | (3L << 16) | (1L << 13);
    /** KVM never lets a periodic LAPIC timer fire more often than every 200 µs (min_timer_period_us). */
    static final long MIN_PERIOD_NANOS = 200_000;

    private final ApicBus bus;
    private final int initialId;
    private final boolean bsp;
    private final CpuEvents events;
    private final GuestClock clock;

    // Read by other CPUs' message routing without this monitor: volatile.
    private volatile long apicBase;
    private volatile int xapicId;   // ID register bits 31:24 meaning (xAPIC mode)
    private volatile int ldr;       // raw register value (xAPIC: bits 31:24; x2APIC: derived)
    private volatile int dfr;
    private volatile int svr;
    private volatile long deadline = Long.MAX_VALUE;   // GuestClock nanos of the next timer event

    private int tpr;
    private final int[] irr = new int[8];
    private final int[] isr = new int[8];
    private final int[] tmr = new int[8];
    private int esr;          // what ESR reads: latched by the last ESR write
    private int esrPending;   // errors since then
    private final int[] lvt = new int[6];
    private int icrLow;
    private int icrHigh;
    private int timerInitial;
    private int timerDivideRegister;
    private long timerStart;       // GuestClock nanos when the current count equalled timerInitial
    private long tscDeadline;      // IA32_TSC_DEADLINE as last written, 0 once fired
    private boolean extIntPending; // pendingInterrupt last answered with the PIC's vector ...
    private int extIntVector;      // ... this one
    private volatile ExtIntSource extInt;
    /**
     * Whether any IRR bit is set: lets {@link #pendingInterrupt}, which the CPU calls between
     * blocks whenever IF is set, answer "none" with two volatile reads and no lock.
     */
    private volatile boolean irrNonEmpty;

    LocalApic(ApicBus bus, int apicId, boolean bsp, CpuEvents events, GuestClock clock) {
        this.bus = bus;
        this.initialId = apicId;
        this.bsp = bsp;
        this.events = events;
        this.clock = clock;
        this.apicBase = DEFAULT_BASE | BASE_EN | (bsp ? BASE_BSP : 0);
        this.xapicId = apicId & 0xFF;
        resetRegisters();
    }

    /** The initial APIC ID (CPUID.1:EBX[31:24], CPUID.0BH:EDX): the x2APIC ID, and the xAPIC ID at reset. */
    public int apicId() { return initialId; }

    public boolean isBsp() { return bsp; }

    public CpuEvents events() { return events; }

    /** The 8259 pair behind LINT0 (BSP only in our machine, as in KVM). */
    public void connectExtInt(ExtIntSource source) {
        this.extInt = source;
    }

    /** The PIC's output may have changed: wake the CPU if LINT0 passes it through. */
    public void extIntChanged() {
        ExtIntSource source;
        synchronized (this) {
            source = extInt;
            if (source == null || !acceptsExtInt()) return;
        }
        if (source.hasInterrupt()) events.post(CpuEvents.INTERRUPT);
    }

    // ---------------------------------------------------------------- state helpers (hold monitor)

    private void resetRegisters() {
        tpr = 0;
        java.util.Arrays.fill(irr, 0);
        irrNonEmpty = false;
        java.util.Arrays.fill(isr, 0);
        java.util.Arrays.fill(tmr, 0);
        esr = 0;
        esrPending = 0;
        java.util.Arrays.fill(lvt, LVT_MASKED);
        // KVM_X86_QUIRK_LINT0_REENABLED: the BSP's LINT0 comes out of reset as ExtINT, unmasked
        // (virtual-wire mode, as a BIOS leaves it), so the 8259 reaches a kernel that never
        // touches the LAPIC.
        if (bsp) lvt[LVT_LINT0] = ApicMessage.EXTINT << 8;
        icrLow = 0;
        icrHigh = 0;
        svr = 0xFF;
        dfr = 0xFFFF_FFFF;
        ldr = x2apicMode() ? x2apicLdr(initialId) : 0;
        timerInitial = 0;
        timerDivideRegister = 0;
        timerStart = 0;
        tscDeadline = 0;
        extIntPending = false;
        deadline = Long.MAX_VALUE;
    }

    /** SDM §10.12.10.2: x2APIC logical ID = cluster (ID[19:4]) in bits 31:16, bit ID[3:0] set in 15:0. */
    static int x2apicLdr(int x2apicId) {
        return ((x2apicId >>> 4) << 16) | (1 << (x2apicId & 0xF));
    }

    boolean hardwareEnabled() { return (apicBase & BASE_EN) != 0; }

    boolean x2apicMode() { return (apicBase & (BASE_EN | BASE_EXTD)) == (BASE_EN | BASE_EXTD); }

    boolean softwareEnabled() { return (svr & SVR_ENABLE) != 0; }

    private static int highestBit(int[] bits) {
        for (int i = 7; i >= 0; i--) {
            if (bits[i] != 0) return i * 32 + 31 - Integer.numberOfLeadingZeros(bits[i]);
        }
        return -1;
    }

    private void setIrr(int vector) {
        set(irr, vector);
        irrNonEmpty = true;
    }

    private static boolean test(int[] bits, int v) { return (bits[v >>> 5] & (1 << (v & 31))) != 0; }

    private static void set(int[] bits, int v) { bits[v >>> 5] |= 1 << (v & 31); }

    private static void clear(int[] bits, int v) { bits[v >>> 5] &= ~(1 << (v & 31)); }

    /** SDM §10.8.3.1: PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4] with a zero low nibble. */
    private int ppr() {
        int isrv = Math.max(highestBit(isr), 0);
        return (tpr >>> 4) >= (isrv >>> 4) ? tpr : isrv & 0xF0;
    }

    /** The IRR vector deliverable now (above PPR's class), or -1. */
    private int deliverableVector() {
        int v = highestBit(irr);
        if (v < 0 || (v & 0xF0) <= (ppr() & 0xF0)) return -1;
        return v;
    }

    /** LINT0 takes the 8259 output: LVT0 unmasked ExtINT, or the APIC hardware-disabled (KVM's kvm_apic_accept_pic_intr). */
    private boolean acceptsExtInt() {
        if (!hardwareEnabled()) return true;
        int lint0 = lvt[LVT_LINT0];
        return (lint0 & LVT_MASKED) == 0 && ((lint0 >>> 8) & 7) == ApicMessage.EXTINT;
    }

    /** Records an error (SDM §10.5.3) and raises the error LVT; returns whether INTERRUPT should be posted. */
    private boolean error(int bits) {
        esrPending |= bits;
        int e = lvt[LVT_ERROR];
        if ((e & LVT_MASKED) != 0 || (e & 0xFF) < 16) return false;
        setIrr(e & 0xFF);
        clear(tmr, e & 0xFF);
        return deliverableVector() >= 0;
    }

    private void post(boolean interrupt) {
        if (interrupt) events.post(CpuEvents.INTERRUPT);
    }

    // ---------------------------------------------------------------- accepting messages (bus, any thread)

    /**
     * A fixed or lowest-priority message was chosen for this LAPIC: IRR (and TMR) set, CPU told.
     * Returns whether the LAPIC took it (the I/O APIC sets remote IRR only then, as KVM does).
     */
    boolean acceptFixed(int vector, boolean levelTriggered) {
        boolean wake;
        synchronized (this) {
            // KVM drops fixed interrupts to a software-disabled APIC (SDM §10.4.7.2 leaves them
            // pending or lost; nothing the kernels we run rely on).
            if (!hardwareEnabled() || !softwareEnabled()) return false;
            if (vector < 16) {
                wake = error(ESR_RECEIVE_ILLEGAL_VECTOR);
            } else {
                setIrr(vector);
                if (levelTriggered) set(tmr, vector); else clear(tmr, vector);
                wake = deliverableVector() >= 0;
            }
        }
        post(wake);
        return vector >= 16;
    }

    boolean acceptNmi() {
        if (!hardwareEnabled()) return false;
        events.post(CpuEvents.NMI);
        return true;
    }

    boolean acceptInit() {
        if (!hardwareEnabled()) return false;
        events.post(CpuEvents.INIT);
        return true;
    }

    boolean acceptStartup(int vector) {
        if (!hardwareEnabled()) return false;
        // The vector first: the CPU reads it after seeing the SIPI bit (post is a CAS: ordered).
        events.sipiVector = vector;
        events.post(CpuEvents.SIPI);
        return true;
    }

    /** The priority used to arbitrate lowest-priority delivery (SDM §10.6.2.4): PPR here, as KVM uses. */
    synchronized int arbitrationPriority() { return ppr(); }

    boolean matchesPhysical(int dest, boolean fromX2apicSender) {
        if (x2apicMode()) {
            if (dest == ApicMessage.X2APIC_BROADCAST) return true;
            // KVM's x2APIC broadcast quirk: an xAPIC broadcast from a non-IPI source (I/O APIC)
            // reaches x2APIC-mode LAPICs too.
            if (!fromX2apicSender && dest == ApicMessage.XAPIC_BROADCAST) return true;
            return dest == initialId;
        }
        if (fromX2apicSender ? dest == ApicMessage.X2APIC_BROADCAST : (dest & 0xFF) == ApicMessage.XAPIC_BROADCAST) return true;
        // KVM's kvm_apic_match_physical_addr: an xAPIC-mode LAPIC matches a destination that no
        // 8-bit ID can encode (above 0xFF, from an x2APIC sender) by its x2APIC ID. An AP is in
        // xAPIC mode until its own code switches, so this is how an x2APIC BSP's INIT and SIPIs
        // reach the APs whose IDs are 256 and up (without it they never started: issue 14).
        if (fromX2apicSender && Integer.compareUnsigned(dest, 0xFF) > 0) return dest == initialId;
        return fromX2apicSender ? dest == xapicId : (dest & 0xFF) == xapicId;
    }

    /** SDM §10.6.2.2 (flat and cluster models, DFR) and §10.12.10.2 (x2APIC cluster). */
    boolean matchesLogical(int dest, boolean fromX2apicSender) {
        if (x2apicMode()) {
            if (dest == ApicMessage.X2APIC_BROADCAST) return true;
            int l = ldr;
            return (l >>> 16) == (dest >>> 16) && (l & dest & 0xFFFF) != 0;
        }
        int mda = fromX2apicSender ? dest : dest & 0xFF;
        if (mda == (fromX2apicSender ? ApicMessage.X2APIC_BROADCAST : ApicMessage.XAPIC_BROADCAST)) return true;
        int logicalId = ldr >>> 24;
        mda &= 0xFF;
        if ((dfr >>> 28) == 0xF) return (logicalId & mda) != 0;         // flat
        if ((dfr >>> 28) == 0x0) {                                        // cluster
            return (logicalId >>> 4) == (mda >>> 4) && (logicalId & mda & 0xF) != 0;
        }
        return false;
    }

    /** The xAPIC ID as the ID register holds it now (rewritable by the guest in xAPIC mode). */
    int xapicId() { return xapicId; }

    // ---------------------------------------------------------------- InterruptController

    @Override
    public int pendingInterrupt() {
        // KVM checks the 8259 before the LAPIC (kvm_cpu_get_interrupt).
        ExtIntSource source = extInt;
        if (source != null && source.hasInterrupt()) {
            boolean accepts;
            synchronized (this) {
                accepts = acceptsExtInt();
            }
            int v = accepts ? source.peekVector() : -1;
            if (v >= 0) {
                synchronized (this) {
                    extIntPending = true;
                    extIntVector = v;
                }
                return v;
            }
        }
        if (!irrNonEmpty) return -1;
        synchronized (this) {
            if (!hardwareEnabled()) return -1;
            return deliverableVector();
        }
    }

    @Override
    public void acknowledge(int vector) {
        ExtIntSource source = null;
        synchronized (this) {
            if (extIntPending && vector == extIntVector) {
                extIntPending = false;
                source = extInt;
            } else {
                extIntPending = false;
                if (vector < 0 || vector > 255 || !test(irr, vector)) return;
                clear(irr, vector);
                irrNonEmpty = highestBit(irr) >= 0;
                set(isr, vector);
            }
        }
        // The interrupt-acknowledge cycle to the 8259: its IRR moves to its ISR (or auto-EOI).
        if (source != null) source.acknowledge();
    }

    @Override
    public long nextDeadline() { return deadline; }

    @Override
    public void tick(long now) {
        boolean wake = false;
        long rearm = Long.MAX_VALUE;
        synchronized (this) {
            long d = deadline;
            if (d == Long.MAX_VALUE || now < d) return;
            int entry = lvt[LVT_TIMER];
            int mode = (entry >>> LVT_TIMER_MODE_SHIFT) & 3;
            if (mode == TIMER_PERIODIC && timerInitial != 0) {
                long period = firingPeriod();
                // Fire once for however many periods passed (the host was late), stay on the grid.
                long next = d + period * ((now - d) / period + 1);
                deadline = next;
                rearm = next;
            } else {
                deadline = Long.MAX_VALUE;
                if (mode == TIMER_TSC_DEADLINE) tscDeadline = 0;
            }
            if ((entry & LVT_MASKED) == 0 && (entry & 0xFF) >= 16) {
                setIrr(entry & 0xFF);
                clear(tmr, entry & 0xFF);
                wake = deliverableVector() >= 0;
            }
        }
        if (rearm != Long.MAX_VALUE) bus.scheduleTimer(this, rearm);
        post(wake);
    }

    @Override
    public long mmioRead(long offset, int size) {
        int off = (int) (offset & 0xFFF);
        int shift = off & 0xF;
        if (size > 4 || shift + size > 4) return 0;  // KVM rejects accesses straddling a register
        long value;
        synchronized (this) {
            if (!mmioEnabled()) return 0xFFFF_FFFFL;
            value = readRegister(off & 0xFF0, false) & 0xFFFF_FFFFL;
        }
        return (value >>> (shift * 8)) & (size == 4 ? 0xFFFF_FFFFL : (1L << (size * 8)) - 1);
    }

    @Override
    public void mmioWrite(long offset, int size, long value) {
        int off = (int) (offset & 0xFFF);
        // KVM ignores xAPIC writes that are not 32-bit and aligned (apic_mmio_write).
        if ((size != 4 && size != 8) || (off & 0xF) != 0) return;
        if (!mmioEnabled()) return;
        writeRegister(off, (int) value, false);
    }

    @Override
    public boolean mmioEnabled() {
        long b = apicBase;
        return (b & BASE_EN) != 0 && (b & BASE_EXTD) == 0;
    }

    @Override
    public long apicBase() { return apicBase; }

    @Override
    public boolean setApicBase(long value) {
        synchronized (this) {
            if ((value & ~(BASE_ADDRESS_MASK | BASE_EN | BASE_EXTD | BASE_BSP)) != 0) return false;
            long old = apicBase;
            boolean oldEn = (old & BASE_EN) != 0, oldX2 = x2apicMode();
            boolean newEn = (value & BASE_EN) != 0, newExtd = (value & BASE_EXTD) != 0;
            // SDM §10.12.5, Figure 10-27: EXTD without EN is invalid; x2APIC -> xAPIC and
            // disabled -> x2APIC must go through the other state.
            if (newExtd && !newEn) return false;
            if (oldX2 && newEn && !newExtd) return false;
            if (!oldEn && newEn && newExtd) return false;
            long next = (value & ~BASE_BSP) | (old & BASE_BSP);
            apicBase = next;
            if (oldEn && !newEn) {
                // Hardware disable: the APIC is as after power-up when re-enabled; ID back to initial.
                xapicId = initialId & 0xFF;
                resetRegisters();
            } else if (!oldX2 && newEn && newExtd) {
                // Entering x2APIC mode: ID is the initial (x2APIC) ID, read-only; LDR derived.
                ldr = x2apicLdr(initialId);
            }
        }
        bus.apicChanged(this);
        return true;
    }

    @Override
    public Long readMsr(int msr) {
        synchronized (this) {
            if (msr == MSR_TSC_DEADLINE) {
                return timerMode() == TIMER_TSC_DEADLINE ? tscDeadline : 0L;
            }
            if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST || !x2apicMode()) return null;
            int reg = (msr - MSR_X2APIC_FIRST) << 4;
            if (!x2apicReadable(reg)) return null;
            return readRegister(reg, true);
        }
    }

    private static boolean x2apicReadable(int reg) {
        return switch (reg) {
            case REG_ID, REG_VERSION, REG_TPR, REG_PPR, REG_LDR, REG_SVR, REG_ESR, REG_ICR_LOW,
                 REG_LVT_TIMER, REG_LVT_THERMAL, REG_LVT_PERF, REG_LVT_LINT0, REG_LVT_LINT1, REG_LVT_ERROR,
                 REG_TIMER_INITIAL, REG_TIMER_CURRENT, REG_TIMER_DIVIDE -> true;
            default -> reg >= REG_ISR && reg < REG_ESR;  // ISR, TMR, IRR
        };
    }

    @Override
    public boolean writeMsr(int msr, long value) {
        if (msr == MSR_TSC_DEADLINE) {
            writeTscDeadline(value);
            return true;
        }
        if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST || !x2apicMode()) return false;
        int reg = (msr - MSR_X2APIC_FIRST) << 4;
        if (reg == REG_ICR_LOW) {
            if ((value & X2APIC_ICR_RESERVED) != 0) return false;
            int low = (int) value, high = (int) (value >>> 32);
            synchronized (this) {
                icrLow = low & ~(1 << 12);
                icrHigh = high;
            }
            sendIpi(low, high);
            return true;
        }
        if ((value >>> 32) != 0) return false;  // bits 63:32 reserved in every other register
        int v = (int) value;
        switch (reg) {
            case REG_TPR, REG_EOI, REG_SVR, REG_LVT_TIMER, REG_LVT_THERMAL, REG_LVT_PERF, REG_LVT_LINT0,
                 REG_LVT_LINT1, REG_LVT_ERROR, REG_TIMER_INITIAL, REG_TIMER_DIVIDE -> { }
            case REG_ESR -> { if (v != 0) return false; }        // SDM §10.12.1.2: ESR write must be 0
            case REG_SELF_IPI -> { if ((v & ~0xFF) != 0) return false; }
            default -> { return false; }                          // read-only or reserved: #GP
        }
        writeRegister(reg, v, true);
        return true;
    }

    @Override
    public long cr8() {
        synchronized (this) {
            return tpr >>> 4;
        }
    }

    @Override
    public void setCr8(long value) {
        boolean wake;
        synchronized (this) {
            tpr = ((int) value & 0xF) << 4;
            wake = deliverableVector() >= 0;
        }
        post(wake);
    }

    @Override
    public void reset() {
        synchronized (this) {
            resetRegisters();
        }
    }

    // ---------------------------------------------------------------- registers

    private int timerMode() { return (lvt[LVT_TIMER] >>> LVT_TIMER_MODE_SHIFT) & 3; }

    /** DCR bits 0,1,3 (SDM Figure 10-10): 0b111 divides by 1, otherwise by 2^(value+1). */
    private int divisor() {
        int v = (timerDivideRegister & 3) | ((timerDivideRegister >>> 1) & 4);
        return v == 7 ? 1 : 2 << v;
    }

    private long countNanos(long counts) { return counts * divisor(); }

    private long firingPeriod() { return Math.max(countNanos(timerInitial & 0xFFFF_FFFFL), MIN_PERIOD_NANOS); }

    /** SDM §10.5.4: current count derived from the time since the count was loaded. */
    private int currentCount(long now) {
        long initial = timerInitial & 0xFFFF_FFFFL;
        int mode = timerMode();
        if (initial == 0 || mode == TIMER_TSC_DEADLINE || mode == TIMER_RESERVED) return 0;
        long elapsed = (now - timerStart) / divisor();
        if (mode == TIMER_PERIODIC) return (int) (initial - elapsed % initial);
        if (deadline == Long.MAX_VALUE && elapsed >= initial) return 0;
        return elapsed >= initial ? 0 : (int) (initial - elapsed);
    }

    /** Called holding the monitor; returns the deadline to hand to the platform timer. */
    private long armCountdown(long now) {
        long initial = timerInitial & 0xFFFF_FFFFL;
        if (initial == 0 || timerMode() == TIMER_TSC_DEADLINE || timerMode() == TIMER_RESERVED) {
            deadline = Long.MAX_VALUE;
            return Long.MAX_VALUE;
        }
        long first = timerStart + countNanos(initial);
        if (timerMode() == TIMER_PERIODIC && countNanos(initial) < MIN_PERIOD_NANOS) first = timerStart + MIN_PERIOD_NANOS;
        deadline = first;
        return first;
    }

    private void writeTscDeadline(long value) {
        long arm;
        synchronized (this) {
            // SDM §10.5.4.1: writes are ignored outside TSC-deadline mode; 0 disarms.
            if (timerMode() != TIMER_TSC_DEADLINE) return;
            tscDeadline = value;
            deadline = value == 0 ? Long.MAX_VALUE : clock.nanosAtTsc(value);
            arm = deadline;
        }
        scheduleOrFire(arm);
    }

    private void scheduleOrFire(long arm) {
        if (arm == Long.MAX_VALUE) return;
        long now = clock.nanos();
        if (arm <= now) tick(now); else bus.scheduleTimer(this, arm);
    }

    /** Register read; {@code x2} selects x2APIC formats. Hold the monitor. */
    private long readRegister(int reg, boolean x2) {
        if (reg >= REG_ISR && reg < REG_ISR + 0x80) return isr[(reg - REG_ISR) >>> 4] & 0xFFFF_FFFFL;
        if (reg >= REG_TMR && reg < REG_TMR + 0x80) return tmr[(reg - REG_TMR) >>> 4] & 0xFFFF_FFFFL;
        if (reg >= REG_IRR && reg < REG_IRR + 0x80) return irr[(reg - REG_IRR) >>> 4] & 0xFFFF_FFFFL;
        int v = switch (reg) {
            case REG_ID -> x2 ? initialId : xapicId << 24;
            case REG_VERSION -> VERSION;
            case REG_TPR -> tpr;
            case REG_APR -> 0;  // KVM reads the arbitration priority as 0
            case REG_PPR -> ppr();
            case REG_LDR -> ldr;
            case REG_DFR -> dfr | 0x0FFF_FFFF;
            case REG_SVR -> svr;
            case REG_ESR -> esr;
            case REG_ICR_LOW -> icrLow;  // delivery status (bit 12) always idle: sent at once
            case REG_ICR_HIGH -> icrHigh;
            case REG_LVT_TIMER, REG_LVT_THERMAL, REG_LVT_PERF, REG_LVT_LINT0, REG_LVT_LINT1, REG_LVT_ERROR ->
                    lvt[(reg - REG_LVT_TIMER) >>> 4];
            case REG_TIMER_INITIAL -> timerMode() == TIMER_TSC_DEADLINE ? 0 : timerInitial;
            case REG_TIMER_CURRENT -> currentCount(clock.nanos());
            case REG_TIMER_DIVIDE -> timerDivideRegister;
            default -> 0;
        };
        if (x2 && reg == REG_ICR_LOW) return (icrLow & 0xFFFF_FFFFL) | ((long) icrHigh << 32);
        return v & 0xFFFF_FFFFL;
    }

    /** Register write in either mode (x2APIC-only checks done by writeMsr). */
    private void writeRegister(int reg, int v, boolean x2) {
        boolean wake = false;
        int ipiLow = 0, ipiHigh = 0;
        boolean sendIpi = false;
        int eoiVector = -1;
        long arm = Long.MAX_VALUE;
        synchronized (this) {
            switch (reg) {
                case REG_ID -> {
                    if (!x2) {
                        xapicId = v >>> 24;
                    }
                }
                case REG_TPR -> {
                    tpr = v & 0xFF;
                    wake = deliverableVector() >= 0;
                }
                case REG_EOI -> {
                    int vector = highestBit(isr);
                    if (vector >= 0) {
                        clear(isr, vector);
                        if (test(tmr, vector)) eoiVector = vector;
                        wake = deliverableVector() >= 0;
                    }
                }
                case REG_LDR -> { if (!x2) ldr = v & 0xFF00_0000; }
                case REG_DFR -> { if (!x2) dfr = v | 0x0FFF_FFFF; }
                case REG_SVR -> {
                    svr = v & SVR_WRITABLE;
                    if (!softwareEnabled()) {
                        // SDM §10.4.7.2: software disable sets every LVT mask bit.
                        for (int i = 0; i < lvt.length; i++) lvt[i] |= LVT_MASKED;
                    }
                    wake = deliverableVector() >= 0;
                }
                case REG_ESR -> {
                    // SDM §10.5.3: a write loads ESR with the errors since the last write and clears them.
                    esr = esrPending;
                    esrPending = 0;
                }
                case REG_ICR_LOW -> {
                    icrLow = v & ~(1 << 12);
                    ipiLow = v;
                    ipiHigh = icrHigh;
                    sendIpi = true;
                }
                case REG_ICR_HIGH -> icrHigh = v & 0xFF00_0000;
                case REG_LVT_TIMER -> {
                    int old = lvt[LVT_TIMER];
                    int next = v & LVT_WRITABLE[LVT_TIMER];
                    if (!softwareEnabled()) next |= LVT_MASKED;
                    lvt[LVT_TIMER] = next;
                    int oldMode = (old >>> LVT_TIMER_MODE_SHIFT) & 3, newMode = timerMode();
                    if ((oldMode == TIMER_TSC_DEADLINE) != (newMode == TIMER_TSC_DEADLINE)) {
                        // KVM: switching into or out of TSC-deadline mode disarms the timer.
                        timerInitial = 0;
                        tscDeadline = 0;
                        deadline = Long.MAX_VALUE;
                    } else if (oldMode != newMode && timerInitial != 0) {
                        arm = armCountdown(timerStart);
                    }
                }
                case REG_LVT_THERMAL, REG_LVT_PERF, REG_LVT_LINT0, REG_LVT_LINT1, REG_LVT_ERROR -> {
                    int i = (reg - REG_LVT_TIMER) >>> 4;
                    int next = v & LVT_WRITABLE[i];
                    if (!softwareEnabled()) next |= LVT_MASKED;
                    lvt[i] = next;
                    if (i == LVT_LINT0 && extInt != null && acceptsExtInt()) wake = true;
                }
                case REG_TIMER_INITIAL -> {
                    if (timerMode() != TIMER_TSC_DEADLINE) {
                        timerInitial = v;
                        timerStart = clock.nanos();
                        arm = armCountdown(timerStart);
                    }
                }
                case REG_TIMER_DIVIDE -> {
                    long now = clock.nanos();
                    int remaining = currentCount(now);
                    long initial = timerInitial & 0xFFFF_FFFFL;
                    boolean running = initial != 0 && deadline != Long.MAX_VALUE && timerMode() != TIMER_TSC_DEADLINE;
                    timerDivideRegister = v & 0xB;
                    if (running) {
                        // Keep the current count; it continues at the new rate.
                        timerStart = now - countNanos(initial - (remaining & 0xFFFF_FFFFL));
                        arm = armCountdown(timerStart);
                        if (timerMode() == TIMER_PERIODIC && arm <= now) {
                            long period = firingPeriod();
                            arm = arm + period * ((now - arm) / period + 1);
                            deadline = arm;
                        }
                    }
                }
                case REG_SELF_IPI -> {
                    if (x2) {
                        ipiLow = (v & 0xFF) | (ApicMessage.SELF << 18);
                        sendIpi = true;
                    }
                }
                // Read-only and reserved registers: the write is dropped, as KVM does (no ESR
                // "illegal register address" error: KVM never reports one either).
                default -> { }
            }
        }
        post(wake);
        if (reg == REG_ID) bus.apicChanged(this);
        if (eoiVector >= 0) bus.eoi(eoiVector);
        if (sendIpi) sendIpi(ipiLow, ipiHigh);
        scheduleOrFire(arm);
    }

    /** ICR write: validate, then route through the bus without holding this monitor. */
    private void sendIpi(int low, int high) {
        int mode = ApicMessage.deliveryMode(low);
        int vector = ApicMessage.vector(low);
        if ((mode == ApicMessage.FIXED || mode == ApicMessage.LOWEST_PRIORITY) && vector < 16) {
            boolean wake;
            synchronized (this) {
                wake = error(ESR_SEND_ILLEGAL_VECTOR);
            }
            post(wake);
            return;
        }
        bus.sendIpi(this, low, high, x2apicMode());
    }

    /** For tests and the VMM's inspection: the priority registers as the guest would read them. */
    public synchronized int tpr() { return tpr; }

    public synchronized int processorPriority() { return ppr(); }

    /** Whether {@code vector} is set in IRR / ISR / TMR (inspection and tests). */
    public synchronized boolean inIrr(int vector) { return test(irr, vector); }

    public synchronized boolean inIsr(int vector) { return test(isr, vector); }

    public synchronized boolean inTmr(int vector) { return test(tmr, vector); }

    @Override
    public String toString() {
        return "LocalApic[id=" + initialId + (bsp ? ", bsp" : "") + "]";
    }
}
