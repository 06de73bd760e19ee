package dev.jkvm.vmm.emulated.irq;

import dev.jkvm.vmm.emulated.time.GuestClock;

/** Guest time that stands still until the test sets it: timer tests without timed assertions. */
final class FakeClock implements GuestClock {
    private volatile long now;
    private final long tscHz;

    FakeClock() { this(2_000_000_000L); }

    FakeClock(long tscHz) { this.tscHz = tscHz; }

    void set(long nanos) { now = nanos; }

    void advance(long nanos) { now += nanos; }

    @Override public long nanos() { return now; }

    @Override public long tscHz() { return tscHz; }
}
