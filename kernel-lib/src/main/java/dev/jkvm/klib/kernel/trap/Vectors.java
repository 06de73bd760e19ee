package dev.jkvm.klib.kernel.trap;

/** IDT vectors the kernel assigns above the 32 exceptions (Intel SDM Vol. 3A 6.2). */
public final class Vectors {
    private Vectors() {
    }

    /** Exceptions the kernel treats specially (Intel SDM Vol. 3A 6.3.1, Table 6-1). */
    public static final int NMI = 2;
    public static final int PAGE_FAULT = 14;

    /** The local APIC timer. */
    public static final int TIMER = 0xEF;
    /**
     * Ends the HLT of APs waiting for the boot CPU's release (ApStartup): handled with an EOI and
     * nothing else, so it disturbs no counter any self-test reads.
     */
    public static final int WAKE = 0xEE;
    /**
     * The first of IpiMailbox's vectors, one per IpiReason bit: 0xF0 reschedule, 0xF1 TLB
     * shootdown, 0xF2 call-function, 0xF3 panic, 0xF4 forwarded timer, 0xF5 ping. All in the
     * highest priority class (11.8.3), above the local timer, so an IPI waits for no device.
     */
    public static final int MAILBOX_FIRST = 0xF0;
    /**
     * Not an IDT vector: the marker the SYSCALL entry puts in TrapFrame.VECTOR, above 255 so no
     * interrupt or exception can be taken for a system call.
     */
    public static final int SYSTEM_CALL = 0x100;

    /**
     * Spurious interrupts: bits 3:0 all ones, as older APICs require (11.9); the handler sends no
     * EOI because a spurious interrupt sets no ISR bit.
     */
    public static final int SPURIOUS = 0xFF;
}
