package dev.jkvm.klib.kernel.smp;

/**
 * Why a CPU was interrupted: one bit each in the target's pending word of IpiMailbox, so that
 * any number of requests of any reasons share one IPI vector and none is lost when IPIs coalesce.
 */
public final class IpiReason {
    private IpiReason() {
    }

    /** The scheduler wants the target to pick another task. */
    public static final int RESCHEDULE = 1;
    /** TlbShootdown has requests for the target. */
    public static final int TLB_SHOOTDOWN = 1 << 1;
    /** CallFunction has requests for the target. */
    public static final int CALL_FUNCTION = 1 << 2;
    /** Another CPU panicked: stop. */
    public static final int PANIC = 1 << 3;
    /** A timer event forwarded from the CPU that owns the timer. */
    public static final int TIMER = 1 << 4;

    /** Every reason defined above. */
    public static final int ALL = RESCHEDULE | TLB_SHOOTDOWN | CALL_FUNCTION | PANIC | TIMER;
}
