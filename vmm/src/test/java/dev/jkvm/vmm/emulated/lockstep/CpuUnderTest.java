package dev.jkvm.vmm.emulated.lockstep;

/**
 * The CPU the lockstep harness checks against QEMU: the project's emulated CPU
 * ({@link EmulatedCpuUnderTest}), or for the harness's own tests a second QEMU. Memory is
 * guest-physical and the harness's kernels identity-map it, so physical equals linear.
 */
interface CpuUnderTest extends AutoCloseable {
    /** Replaces the whole architectural state: registers, hidden segment caches, descriptor tables, CPL. */
    void load(X86State registers, SegmentState segments) throws Exception;

    /** Sets the MSRs the gdbstub cannot show (read from QEMU by executing RDMSR there). */
    default void loadMsrs(OracleMsrs msrs) throws Exception {
    }

    /** Sets general registers, RIP, RFLAGS and XMM only (the harness's resynchronisation after masked values). */
    void setRegisters(X86State registers) throws Exception;

    void writeMemory(long physical, byte[] data) throws Exception;

    byte[] readMemory(long physical, int length) throws Exception;

    /** Writes at a linear address through the CPU's own paging (supervisor access). */
    default void writeVirtual(long linear, byte[] data) throws Exception {
        writeMemory(linear, data);
    }

    /**
     * Executes one instruction (one iteration of a REP string instruction is allowed too: the
     * harness steps again while RIP stays on it). Port input and MMIO reads are answered by
     * {@code devices} with what QEMU saw.
     */
    StepEvent step(DeviceAnswers devices) throws Exception;

    X86State registers() throws Exception;

    /**
     * Runs until RIP is {@code rip} or {@code maxInstructions} ran, with no devices; returns the
     * instructions executed. The default steps one at a time.
     */
    default long runTo(long rip, long maxInstructions) throws Exception {
        DeviceAnswers none = new DeviceAnswers() {
            @Override
            public long portIn(int port, int size) {
                return -1;
            }

            @Override
            public long mmioRead(long physical, int size) {
                return -1;
            }
        };
        long n = 0;
        while (n < maxInstructions && registers().rip != rip) {
            StepEvent e = step(none);
            n++;
            if (e == StepEvent.FAILED || e == StepEvent.SHUTDOWN || e == StepEvent.HALTED) break;
        }
        return n;
    }

    SegmentState segments() throws Exception;

    /** Whether the CPU is halted (HLT executed, no interrupt taken yet). */
    default boolean halted() throws Exception {
        return false;
    }

    /**
     * Whether a halted CPU has an interrupt pending or a timer armed, so that stepping it returns:
     * the harness steps a halted CPU under test after a HLT only while this holds.
     */
    default boolean canWake() throws Exception {
        return false;
    }

    /** Whether an armed instruction breakpoint is at CS:RIP (it raises #DB before the instruction unless RFLAGS.RF is set, SDM Vol. 3B §17.3.1.1). */
    default boolean atInstructionBreakpoint() throws Exception {
        return false;
    }

    /** What the last step that ended FAILED or SHUTDOWN reported (the backend's exit), or null. */
    default String failureDetail() {
        return null;
    }

    /** True when this CPU reached the oracle's state by booting the same kernel itself (no memory image needed). */
    default boolean bootsItself() {
        return false;
    }

    @Override
    void close();

    /** What the oracle's devices answered during the same instruction. */
    interface DeviceAnswers {
        long portIn(int port, int size);

        long mmioRead(long physical, int size);
    }

    /** What happened in a step besides executing the instruction. */
    enum StepEvent {
        /** Executed (or delivered an exception through the IDT, as hardware would). */
        EXECUTED,
        /** A port input was answered from the oracle. */
        PORT_IN,
        PORT_OUT,
        /** A device MMIO read was answered from the oracle: the destination register came from a device. */
        MMIO_READ,
        MMIO_WRITE,
        HALTED,
        /** Triple fault. */
        SHUTDOWN,
        /** The CPU reported an internal error or an unimplemented instruction. */
        FAILED
    }
}
