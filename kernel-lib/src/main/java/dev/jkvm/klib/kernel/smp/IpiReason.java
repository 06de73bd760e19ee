package dev.jkvm.klib.kernel.smp;

/**
 * Why a CPU was interrupted: one bit each in the target's pending word of IpiMailbox and one
 * IPI vector each (bit i on the mailbox's first vector + i), so that no request is lost when
 * IPIs of a kind coalesce.
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

    /**
     * A counted no-op request (IpiMailbox.ping): the target adds up how many it got. The IPI
     * storm self-test uses it to check that no request is lost however IPIs coalesce.
     */
    public static final int PING = 1 << 5;

    /** How many reasons (and vectors) there are. */
    public static final int KINDS = 6;

    /** Every reason defined above. */
    public static final int ALL = RESCHEDULE | TLB_SHOOTDOWN | CALL_FUNCTION | PANIC | TIMER | PING;
}
