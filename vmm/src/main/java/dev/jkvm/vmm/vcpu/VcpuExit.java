package dev.jkvm.vmm.vcpu;

/**
 * Why {@link Vcpu#run()} returned: the accelerator-neutral form of KVM's {@code kvm_run} exit
 * reasons (the shape of Firecracker's {@code VcpuExit}). Port and MMIO exits carry the data the
 * VMM reads (writes) or fills in (reads); the backend applies filled-in data on the next run.
 */
public sealed interface VcpuExit {

    /** The short name the run summary counts exits by ("io", "mmio", ...). */
    String kind();

    /** The data of a port I/O exit: {@code count} items (string I/O) of the exit's size. */
    interface PortData {
        /** Item {@code i} written by the guest (OUT), zero-extended. */
        int get(int i);

        /** Supplies item {@code i} for the guest to read (IN). */
        void set(int i, int value);
    }

    /** The guest read {@code count} items of {@code size} bytes from {@code port}; fill each with {@link PortData#set}. */
    record PortIn(int port, int size, int count, PortData data) implements VcpuExit {
        public String kind() { return "io"; }
    }

    /** The guest wrote {@code count} items of {@code size} bytes to {@code port}; read each with {@link PortData#get}. */
    record PortOut(int port, int size, int count, PortData data) implements VcpuExit {
        public String kind() { return "io"; }
    }

    /** Supplies the value of an MMIO read (its low {@code length} bytes are used). */
    interface MmioData {
        void set(long value);
    }

    /** The guest read {@code length} bytes at {@code address}, which is neither RAM nor handled by the accelerator. */
    record MmioRead(long address, int length, MmioData data) implements VcpuExit {
        public String kind() { return "mmio"; }
    }

    /** The guest wrote {@code value} ({@code length} bytes, zero-extended) at {@code address}. */
    record MmioWrite(long address, int length, long value) implements VcpuExit {
        public String kind() { return "mmio"; }
    }

    /** The vCPU halted and the accelerator does not wait for its interrupts itself. */
    record Halt() implements VcpuExit {
        public String kind() { return "halt"; }
    }

    /** The vCPU shut down (triple fault, SDM Vol. 3 §6.15 "Double Fault Exception"); {@code what} names it for the crash report. */
    record Shutdown(String what) implements VcpuExit {
        public String kind() { return "shutdown"; }
    }

    /** The accelerator could not continue the guest (e.g. emulation failure); {@code detail} holds its data. */
    record InternalError(String what, String detail) implements VcpuExit {
        public String kind() { return "internal-error"; }
    }

    /** The accelerator refused to enter the guest (invalid state). */
    record EntryFailure(String what) implements VcpuExit {
        public String kind() { return "entry-failure"; }
    }

    /** A machine-wide event the accelerator raised: power-off, reset or a guest-reported crash. */
    record SystemEvent(Type type, String what, String detail) implements VcpuExit {
        public enum Type { SHUTDOWN, RESET, CRASH, OTHER }

        public String kind() { return "system-event"; }
    }

    /** {@link Vcpu#kick()} (or a spurious wake-up) ended the run: check the VM's flags and run again. */
    record Interrupted() implements VcpuExit {
        public static final Interrupted INSTANCE = new Interrupted();

        public String kind() { return "interrupted"; }
    }
}
