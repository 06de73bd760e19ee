package dev.jkvm.vmm.emulated.time;

/** Guest time that follows the host's monotonic clock, from the moment the machine was created. */
public final class HostClock implements GuestClock {
    /** 2 GHz: a round, advertised frequency (CPUID 0x15/0x16), independent of the host's TSC. */
    public static final long DEFAULT_TSC_HZ = 2_000_000_000L;

    private final long origin = System.nanoTime();
    private final long tscHz;

    public HostClock() { this(DEFAULT_TSC_HZ); }

    public HostClock(long tscHz) {
        if (tscHz <= 0) throw new IllegalArgumentException("TSC frequency must be positive");
        this.tscHz = tscHz;
    }

    @Override public long nanos() { return System.nanoTime() - origin; }

    @Override public long tscHz() { return tscHz; }
}
