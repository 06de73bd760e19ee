package dev.jkvm.klib.kernel.trap;

/** IDT vectors the kernel assigns above the 32 exceptions (Intel SDM Vol. 3A 6.2). */
public final class Vectors {
    private Vectors() {
    }

    /** The local APIC timer. */
    public static final int TIMER = 0xEF;
    /** The one IPI vector of IpiMailbox; the reason bits say why (reschedule, TLB, call, timer). */
    public static final int MAILBOX = 0xF0;
    /**
     * Spurious interrupts: bits 3:0 all ones, as older APICs require (11.9); the handler sends no
     * EOI because a spurious interrupt sets no ISR bit.
     */
    public static final int SPURIOUS = 0xFF;
}
