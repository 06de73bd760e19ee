package dev.jkvm.vmm.emulated.cpu;

/**
 * One emulated x86-64 processor: state, MMU, decoder/executor, and its run loop.
 *
 * <p>CONTRACT STUB (system side owns this file). Fields below are what the ISA side may use.
 */
public final class X86Cpu {
    public final CpuState s = new CpuState();
    /** The per-vCPU reusable exception instance: {@code throw cpu.ex.raise(CpuException.GP, 0)}. */
    public final CpuException ex = new CpuException();
    public final Mmu mmu;
    public final SystemInstructions system;

    public X86Cpu(Mmu mmu, SystemInstructions system) {
        this.mmu = mmu;
        this.system = system;
    }
}
