package dev.jkvm.vmm.devices;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A UTC clock that stands still until the test advances it. */
final class SettableClock extends Clock {
    private Instant now;

    SettableClock(Instant start) {
        now = start;
    }

    void advance(Duration d) {
        now = now.plus(d);
    }

    @Override
    public ZoneId getZone() { return ZoneOffset.UTC; }

    @Override
    public Clock withZone(ZoneId zone) { throw new UnsupportedOperationException("the RTC tests use UTC"); }

    @Override
    public Instant instant() { return now; }
}
