package dev.jkvm.vmm.api;

/** Process exit statuses of the jkvm CLI, one per {@link VmOutcome.Kind}. */
public final class ExitStatus {
    private ExitStatus() {}

    /** The guest powered off cleanly (ACPI S5 or KVM system-event shutdown). */
    public static final int POWER_OFF = 0;
    /** Bad command line, unreadable or invalid kernel image, impossible configuration. */
    public static final int USAGE = 2;
    /** Triple fault, or the guest reported a crash. */
    public static final int TRIPLE_FAULT = 4;
    /** KVM could not emulate an instruction, or refused to enter the guest. */
    public static final int EMULATION_ERROR = 6;
    public static final int ENTRY_FAILURE = 6;
    /** A failure of the VMM itself (a KVM call failed, a device model threw). */
    public static final int VMM_ERROR = 8;
    /** The embedder or the user stopped the VM (128 + SIGINT, as a shell reports Ctrl-C). */
    public static final int STOPPED = 130;
    /** The wall-clock limit was reached (as timeout(1) reports it). */
    public static final int TIMEOUT = 124;

    /**
     * QEMU's isa-debug-exit convention: a write of {@code value} to the debug-exit port ends the
     * process with {@code (value << 1) | 1}, so a guest can never fake a clean 0.
     */
    public static int debugExit(int value) {
        return (value << 1) | 1;
    }
}
