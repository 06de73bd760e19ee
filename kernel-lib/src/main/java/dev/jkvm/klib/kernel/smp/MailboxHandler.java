package dev.jkvm.klib.kernel.smp;

/**
 * The body of the mailbox IPIs' interrupt handlers: takes this CPU's pending reasons among those
 * the vector stands for, serves the ones the SMP bookkeeping owns (call-function and TLB
 * shootdown requests) and returns the others (IpiReason.RESCHEDULE, TIMER, PANIC, PING) for the
 * kernel's handler to act on. The kernel's handler signals end of interrupt to the local APIC.
 */
public final class MailboxHandler {
    private MailboxHandler() {
    }

    public static int handle(long mailbox, long calls, long tlb, int cpu, int wanted) {
        int reasons = IpiMailbox.takeReasons(mailbox, cpu, wanted);
        if ((reasons & IpiReason.TLB_SHOOTDOWN) != 0) {
            TlbShootdown.runIncoming(tlb, cpu);
        }
        if ((reasons & IpiReason.CALL_FUNCTION) != 0) {
            CallFunction.runIncoming(calls, cpu);
        }
        return reasons & ~(IpiReason.TLB_SHOOTDOWN | IpiReason.CALL_FUNCTION);
    }
}
