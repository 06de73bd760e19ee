package dev.jkvm.vmm.emulated.irq;

/**
 * The fields of an interrupt message on the APIC bus, whether an IPI (from an ICR write) or an
 * I/O APIC redirection (SDM Vol. 3 §10.6.1 ICR layout; 82093AA I/O APIC datasheet §3.2.4).
 * Delivery modes and flags as the ICR encodes them; values are plain ints so messages need no
 * allocation on the IPI path.
 */
public final class ApicMessage {
    private ApicMessage() {}

    /** Delivery modes, ICR bits 10:8 (SDM §10.6.1). */
    public static final int FIXED = 0;
    public static final int LOWEST_PRIORITY = 1;
    public static final int SMI = 2;
    public static final int NMI = 4;
    public static final int INIT = 5;
    public static final int STARTUP = 6;
    public static final int EXTINT = 7;

    /** Destination shorthands, ICR bits 19:18. */
    public static final int NO_SHORTHAND = 0;
    public static final int SELF = 1;
    public static final int ALL_INCLUDING_SELF = 2;
    public static final int ALL_EXCLUDING_SELF = 3;

    /** Broadcast destinations: 0xFF in xAPIC mode (§10.6.2.1), 0xFFFFFFFF in x2APIC mode (§10.12.9). */
    public static final int XAPIC_BROADCAST = 0xFF;
    public static final int X2APIC_BROADCAST = 0xFFFF_FFFF;

    static int vector(int icrLow) { return icrLow & 0xFF; }

    static int deliveryMode(int icrLow) { return (icrLow >>> 8) & 7; }

    /** ICR bit 11: 1 = logical destination. */
    static boolean logical(int icrLow) { return (icrLow & (1 << 11)) != 0; }

    /** ICR bit 14: 1 = assert (only meaningful for INIT). */
    static boolean assertLevel(int icrLow) { return (icrLow & (1 << 14)) != 0; }

    /** ICR bit 15: 1 = level-triggered. */
    static boolean levelTriggered(int icrLow) { return (icrLow & (1 << 15)) != 0; }

    static int shorthand(int icrLow) { return (icrLow >>> 18) & 3; }
}
