package dev.jkvm.vmm.emulated.irq;

/**
 * Something that fires at GuestClock instants: a local APIC timer or the PIT. {@link PlatformTimer}
 * calls {@link #tick} when {@link #nextDeadline} has passed; a vCPU may call it too (the LAPIC's
 * own CPU does through {@code InterruptController.tick}). Ticking early or twice is harmless:
 * a source fires only what is due at {@code now}.
 */
public interface TimerSource {
    /**
     * GuestClock nanos of the next event, {@code Long.MAX_VALUE} when nothing is armed. Must not
     * block (a volatile read): {@link PlatformTimer} calls it holding its own lock, while sources
     * call {@link PlatformTimer#schedule} holding theirs.
     */
    long nextDeadline();

    /** Fires whatever is due at {@code now} and re-arms (periodic modes). Any thread. */
    void tick(long now);
}
