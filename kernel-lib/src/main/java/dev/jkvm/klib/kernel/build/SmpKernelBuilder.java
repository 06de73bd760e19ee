package dev.jkvm.klib.kernel.build;

import dev.jkvm.klib.image.KernelImage;
import dev.jkvm.klib.kernel.user.PrimeCount;
import dev.jkvm.klib.workload.UserWorkload;

/**
 * Chooses what an SMP kernel image runs once every CPU is up: by default the prime count of the
 * built-in image (user.PrimeCount), or a user's workload. Get one from SmpKernelImage.builder().
 *
 * <pre>{@code
 * KernelImage image = SmpKernelImage.builder()
 *         .workload(UserWorkload.of(MyWork.class, "task", 64))
 *         .build();
 * }</pre>
 *
 * The image boots every CPU, runs the SMP self-tests, runs the workload's tasks in ring 3 on all
 * CPUs, prints "workload: DESCRIPTION = SUM (host at build time: EXPECTED), N ring-3 tasks; T ms:
 * PASS" (or FAIL) with the per-CPU scheduler table, then "result: PASS" and powers the machine
 * off through ACPI S5 (status 0; where the machine has no S5, isa-debug-exit with 0, which jkvm
 * and QEMU report as status 1), or exits through isa-debug-exit with 0x11 on failure (status 35).
 * A task killed by a fault or by the watchdog (watchdogMs) is reported like a Java stack trace and
 * counted: "workload: F of N tasks failed (first: index I, ...)", the sum compared over the tasks
 * that finished, and the run fails.
 */
public final class SmpKernelBuilder {
    private UserWorkload workload = primeCount();
    private boolean schedulerChecks;
    private long watchdogMs = DEFAULT_WATCHDOG_MS;

    /**
     * A workload task still running after this long is killed and reported (its index and where it
     * was), and the run fails instead of hanging. Generous: ring 0 is emulated slowly on some hosts.
     */
    public static final long DEFAULT_WATCHDOG_MS = 60_000;
    /** The largest limit; the kernel command line's watchdog-ms=N accepts the same range. */
    public static final long MAX_WATCHDOG_MS = 3_600_000;

    SmpKernelBuilder() {
    }

    /** The built-in image's workload: the primes below PrimeCount.LIMIT in PrimeCount.CHUNKS tasks. */
    public static UserWorkload primeCount() {
        return UserWorkload.of(PrimeCount.class, "share", PrimeCount.CHUNKS).named("primes below " + PrimeCount.LIMIT);
    }

    /** What the image's ring-3 tasks run. */
    public SmpKernelBuilder workload(UserWorkload workload) {
        this.workload = workload;
        return this;
    }

    /**
     * Whether the kernel runs its scheduler checks too (the built-in image does): kernel and ring-3
     * task tests before the workload, and blocking tasks alongside it. Off by default: ring 0 is
     * slow where the kernel is emulated, and a user's image is about the user's workload.
     */
    public SmpKernelBuilder schedulerChecks(boolean on) {
        this.schedulerChecks = on;
        return this;
    }

    /**
     * The per-task watchdog's limit in ms (1 to MAX_WATCHDOG_MS; default DEFAULT_WATCHDOG_MS). The
     * kernel command line's watchdog-ms=N overrides it for one run.
     */
    public SmpKernelBuilder watchdogMs(long milliseconds) {
        if (milliseconds < 1 || milliseconds > MAX_WATCHDOG_MS) {
            throw new IllegalArgumentException("watchdog of " + milliseconds + " ms: choose 1 to " + MAX_WATCHDOG_MS
                    + " ms");
        }
        this.watchdogMs = milliseconds;
        return this;
    }

    /**
     * Compiles the kernel and the workload and links the image. Throws
     * dev.jkvm.klib.workload.WorkloadException (one line naming the class, method, cause and fix)
     * when the workload's code cannot run in ring 3.
     */
    public KernelImage build() {
        return SmpKernelImage.build(workload, schedulerChecks, watchdogMs);
    }
}
