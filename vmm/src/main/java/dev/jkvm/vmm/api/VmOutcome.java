package dev.jkvm.vmm.api;

/**
 * How a VM run ended.
 *
 * @param kind        the category
 * @param exitStatus  the process exit status the CLI uses ({@link ExitStatus})
 * @param cause       one line saying what happened
 * @param crashReport registers, code at RIP and backtrace for guest crashes; empty otherwise
 */
public record VmOutcome(Kind kind, int exitStatus, String cause, String crashReport) {
    public enum Kind {
        /** The guest wrote to the debug-exit port; exitStatus is QEMU's (value << 1) | 1. */
        GUEST_EXIT,
        /** The guest powered off (ACPI or KVM_SYSTEM_EVENT_SHUTDOWN/RESET). */
        POWER_OFF,
        TRIPLE_FAULT,
        /** The guest reported a crash through KVM_SYSTEM_EVENT_CRASH. */
        GUEST_CRASH,
        EMULATION_ERROR,
        ENTRY_FAILURE,
        TIMEOUT,
        STOPPED,
        VMM_ERROR
    }

    public static VmOutcome guestExit(int status) {
        return new VmOutcome(Kind.GUEST_EXIT, status, "guest wrote to the debug-exit port (status " + status + ")", "");
    }

    public static VmOutcome powerOff(String cause) {
        return new VmOutcome(Kind.POWER_OFF, ExitStatus.POWER_OFF, cause, "");
    }

    public static VmOutcome stopped(String cause) {
        return new VmOutcome(Kind.STOPPED, ExitStatus.STOPPED, cause, "");
    }

    public static VmOutcome timeout(String cause) {
        return new VmOutcome(Kind.TIMEOUT, ExitStatus.TIMEOUT, cause, "");
    }

    public static VmOutcome vmmError(String cause) {
        return new VmOutcome(Kind.VMM_ERROR, ExitStatus.VMM_ERROR, cause, "");
    }

    public static VmOutcome crash(Kind kind, String cause, String report) {
        int status = switch (kind) {
            case TRIPLE_FAULT, GUEST_CRASH -> ExitStatus.TRIPLE_FAULT;
            case EMULATION_ERROR -> ExitStatus.EMULATION_ERROR;
            case ENTRY_FAILURE -> ExitStatus.ENTRY_FAILURE;
            default -> ExitStatus.VMM_ERROR;
        };
        return new VmOutcome(kind, status, cause, report);
    }

    @Override
    public String toString() {
        return kind + " (exit " + exitStatus + "): " + cause;
    }
}
