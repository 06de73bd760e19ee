package dev.jkvm.vmm.vcpu;

import java.util.List;
import java.util.Map;

/**
 * One virtual CPU of a {@link MachineBackend}. {@link #run()} is called only by the vCPU's own
 * thread, between {@link #bindToCurrentThread()} and {@link #unbindFromCurrentThread()}; the
 * state accessors may be called from any thread while the vCPU is not running; {@link #kick()}
 * from any thread at any time.
 */
public interface Vcpu extends AutoCloseable {
    /** The vCPU index, which is also its APIC ID. */
    int index();

    /** Prepares the calling thread to run this vCPU (and to be kicked out of it). */
    void bindToCurrentThread();

    /** The calling thread no longer runs this vCPU; consumes any kick still pending. */
    void unbindFromCurrentThread();

    /**
     * Runs guest code until an exit the VMM must see. A kick made before or during the call
     * makes it return {@link VcpuExit.Interrupted} promptly; the kick is consumed by that return,
     * so callers set their own flags before kicking and check them after an Interrupted exit.
     */
    VcpuExit run();

    /** Makes the current or next {@link #run()} return {@link VcpuExit.Interrupted}. */
    void kick();

    Regs regs();

    void setRegs(Regs regs);

    Sregs sregs();

    void setSregs(Sregs sregs);

    /** The CPUID table the guest sees on this vCPU. */
    void setCpuid(List<CpuidEntry> entries);

    /** Sets MSRs (index → value); throws naming the first MSR the accelerator refuses. */
    void setMsrs(Map<Integer, Long> msrs);

    /** Reads one MSR. */
    long msr(int index);

    MpState mpState();

    void setMpState(MpState state);

    /**
     * Sets the x87 control word and MXCSR, keeping the rest of the FPU state. The power-on values
     * are FCW 0x037F and MXCSR 0x1F80 (Intel SDM Vol. 3 §9.1.1, Table 9-1).
     */
    void setFpuControl(int fcw, int mxcsr);

    @Override
    void close();
}
