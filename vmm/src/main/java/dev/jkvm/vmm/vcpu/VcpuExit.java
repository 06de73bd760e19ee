package dev.jkvm.vmm.vcpu;

/**
 * Why {@link Vcpu#run()} returned: the accelerator-neutral form of KVM's {@code kvm_run} exit
 * reasons (the shape of Firecracker's {@code VcpuExit}). Port and MMIO exits carry the data the
 * VMM reads (writes) or fills in (reads); the backend applies filled-in data on the next run. They
 * are the frequent ones, so each vCPU reuses one instance of each: an exit is valid until the
 * vCPU's next run and the exit path allocates nothing.
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

    /**
     * The guest read {@code count} items of {@code size} bytes from {@code port}; fill each with
     * {@link PortData#set}. Like the port and MMIO exits below, one instance per vCPU is reused
     * for every such exit (an exit allocates nothing, as KVM's kvm_run): valid until the next run.
     */
    final class PortIn implements VcpuExit {
        private final PortData data;
        private int port, size, count;

        public PortIn(PortData data) { this.data = data; }

        /** Rewrites this exit for the backend's next port input; returns it. */
        public PortIn reset(int port, int size, int count) {
            this.port = port;
            this.size = size;
            this.count = count;
            return this;
        }

        public int port() { return port; }
        public int size() { return size; }
        public int count() { return count; }
        public PortData data() { return data; }
        public String kind() { return "io"; }

        @Override
        public String toString() { return "PortIn[port=0x" + Integer.toHexString(port) + ", size=" + size + ", count=" + count + "]"; }
    }

    /** The guest wrote {@code count} items of {@code size} bytes to {@code port}; read each with {@link PortData#get}. Reused, as {@link PortIn}. */
    final class PortOut implements VcpuExit {
        private final PortData data;
        private int port, size, count;

        public PortOut(PortData data) { this.data = data; }

        public PortOut reset(int port, int size, int count) {
            this.port = port;
            this.size = size;
            this.count = count;
            return this;
        }

        public int port() { return port; }
        public int size() { return size; }
        public int count() { return count; }
        public PortData data() { return data; }
        public String kind() { return "io"; }

        @Override
        public String toString() { return "PortOut[port=0x" + Integer.toHexString(port) + ", size=" + size + ", count=" + count + "]"; }
    }

    /** Supplies the value of an MMIO read (its low {@code length} bytes are used). */
    interface MmioData {
        void set(long value);
    }

    /** The guest read {@code length} bytes at {@code address}, which is neither RAM nor handled by the accelerator. Reused, as {@link PortIn}. */
    final class MmioRead implements VcpuExit {
        private final MmioData data;
        private long address;
        private int length;

        public MmioRead(MmioData data) { this.data = data; }

        public MmioRead reset(long address, int length) {
            this.address = address;
            this.length = length;
            return this;
        }

        public long address() { return address; }
        public int length() { return length; }
        public MmioData data() { return data; }
        public String kind() { return "mmio"; }

        @Override
        public String toString() { return "MmioRead[address=0x" + Long.toHexString(address) + ", length=" + length + "]"; }
    }

    /** The guest wrote {@code value} ({@code length} bytes, zero-extended) at {@code address}. Reused, as {@link PortIn}. */
    final class MmioWrite implements VcpuExit {
        private long address;
        private int length;
        private long value;

        public MmioWrite reset(long address, int length, long value) {
            this.address = address;
            this.length = length;
            this.value = value;
            return this;
        }

        public long address() { return address; }
        public int length() { return length; }
        public long value() { return value; }
        public String kind() { return "mmio"; }

        @Override
        public String toString() {
            return "MmioWrite[address=0x" + Long.toHexString(address) + ", length=" + length + ", value=0x" + Long.toHexString(value) + "]";
        }
    }

    /** The vCPU halted and the accelerator does not wait for its interrupts itself. */
    record Halt() implements VcpuExit {
        public static final Halt INSTANCE = new Halt();

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
