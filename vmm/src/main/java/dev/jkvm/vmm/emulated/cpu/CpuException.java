package dev.jkvm.vmm.emulated.cpu;

/**
 * An x86 exception raised while executing an instruction (SDM Vol. 3 §6.3.1, Table 6-1). Thrown
 * to unwind the instruction with no architectural side effects left half-done; the vCPU loop
 * catches it and delivers the exception through the IDT (or IVT in real mode).
 *
 * <p>One instance per vCPU is reused ({@link #raise}) and it has no stack trace: exceptions are
 * control flow here, and page faults in a guest are ordinary events, so raising one must not
 * allocate.
 */
public final class CpuException extends RuntimeException {
    public static final int DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8,
            TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18, XM = 19;

    /**
     * Not an x86 exception: the instruction needs the VMM first (an MMIO read, port input for INS,
     * or a second MMIO write while one is posted). Thrown like a fault — RIP restored, nothing
     * committed — and the run loop returns the exit recorded in {@code X86Cpu.exit}; the
     * instruction executes again on the next run. Added by the system side (additive).
     */
    public static final int VMM_EXIT = 256;

    /** Marker for exceptions that push no error code. */
    public static final int NO_ERROR_CODE = -1;

    public int vector;
    /** The error code pushed on delivery, or {@link #NO_ERROR_CODE}. */
    public int errorCode;
    /** For #PF: the faulting linear address, loaded into CR2 on delivery. */
    public long faultAddress;

    public CpuException() {
        super(null, null, false, false);
    }

    /** Fills this (per-vCPU) instance and returns it, for {@code throw ex.raise(GP, 0)}. */
    public CpuException raise(int vector, int errorCode) {
        this.vector = vector;
        this.errorCode = errorCode;
        this.faultAddress = 0;
        return this;
    }

    public CpuException pageFault(long linear, int errorCode) {
        this.vector = PF;
        this.errorCode = errorCode;
        this.faultAddress = linear;
        return this;
    }

    @Override
    public String getMessage() {
        return "vector " + vector + (errorCode == NO_ERROR_CODE ? "" : " error code 0x" + Integer.toHexString(errorCode))
                + (vector == PF ? " address 0x" + Long.toHexString(faultAddress) : "");
    }
}
