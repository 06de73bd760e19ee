package dev.jkvm.vmm.emulated.time;

/**
 * The guest's notion of time, one per machine, shared by every vCPU, LAPIC timer and the PIT.
 *
 * <p>This issue derives it from host time ({@link HostClock}); a later one runs SMP guests on
 * virtual time (advanced by executed instructions, seeded), so nothing in the emulated machine
 * may call {@code System.nanoTime()} for guest-visible time: everything goes through here.
 */
public interface GuestClock {
    long NANOS_PER_SECOND = 1_000_000_000L;

    /** Nanoseconds since the machine was created. Monotonic. */
    long nanos();

    /** Guest TSC frequency in Hz, advertised in CPUID leaves 0x15/0x16 (SDM Vol. 2A CPUID). */
    long tscHz();

    /** The TSC at {@code nanos}; whole seconds and the rest apart so the product cannot overflow. */
    default long tscAt(long nanos) {
        long hz = tscHz();
        return (nanos / NANOS_PER_SECOND) * hz + (nanos % NANOS_PER_SECOND) * hz / NANOS_PER_SECOND;
    }

    /** The first {@link #nanos} at which the TSC reaches {@code tsc} (for TSC-deadline timers). */
    default long nanosAtTsc(long tsc) {
        long hz = tscHz();
        return (tsc / hz) * NANOS_PER_SECOND + ((tsc % hz) * NANOS_PER_SECOND + hz - 1) / hz;
    }
}
