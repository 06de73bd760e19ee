package dev.jkvm.vmm.emulated.cpu;

/**
 * What a CPU needs from its local APIC (Intel SDM Vol. 3 Ch. 10), implemented in
 * {@code dev.jkvm.vmm.emulated.irq}. The CPU calls these from its own thread only; the LAPIC
 * synchronizes with other senders (IPIs, the I/O APIC) itself and tells the CPU that something
 * arrived through {@link CpuEvents#post}.
 */
public interface InterruptController {
    /**
     * The vector of the highest-priority interrupt the CPU should take now if RFLAGS.IF allows:
     * the highest IRR vector whose priority class is above PPR (SDM §10.8.3.1), or an ExtINT
     * vector from the 8259 through LINT0 in virtual-wire mode; -1 when none.
     */
    int pendingInterrupt();

    /** The CPU starts delivering {@code vector} (from {@link #pendingInterrupt}): IRR to ISR, PPR updated (SDM §10.8.4). */
    void acknowledge(int vector);

    /** Time (GuestClock nanos) of this LAPIC's next timer event, {@code Long.MAX_VALUE} if none armed; a halted CPU sleeps until then. */
    long nextDeadline();

    /** Fires this LAPIC's timer if it is due at {@code now} (GuestClock nanos); may post INTERRUPT. */
    void tick(long now);

    /** xAPIC register page access at {@code offset} within the APIC base page (SDM §10.4.1, Table 10-1). */
    long mmioRead(long offset, int size);

    void mmioWrite(long offset, int size, long value);

    /** Whether the MMIO page is enabled: IA32_APIC_BASE.EN set and not in x2APIC mode (SDM §10.12.5). */
    boolean mmioEnabled();

    /** IA32_APIC_BASE (MSR 0x1B) as the guest sees it: base, EN (bit 11), EXTD (bit 10), BSP (bit 8). */
    long apicBase();

    /** WRMSR IA32_APIC_BASE; false means the value is invalid and the CPU raises #GP(0). */
    boolean setApicBase(long value);

    /**
     * RDMSR/WRMSR in the x2APIC range 0x800-0x8FF and IA32_TSC_DEADLINE (0x6E0) (SDM §10.12.1.2,
     * §10.5.4.1). Return null / false for an MSR that is not accessible now (x2APIC mode off,
     * reserved, read-only): the CPU raises #GP(0).
     */
    Long readMsr(int msr);

    boolean writeMsr(int msr, long value);

    /** CR8 reads and writes TPR[7:4] (SDM §10.8.6.1). */
    long cr8();

    void setCr8(long value);

    /** INIT received (level assert): the LAPIC resets its state except the APIC ID and base (SDM §10.4.7.3). */
    void reset();
}
