package dev.jkvm.vmm.emulated.cpu;

/**
 * Runs decoded blocks. CONTRACT STUB (ISA side owns this file).
 */
public final class Executor {
    public Executor(X86Cpu cpu) {}

    /**
     * Executes instructions from CS:RIP until {@code budget} instructions ran, a block ended after
     * a system instruction or a taken branch while {@code cpu.events.peek() != 0}, or a
     * {@link CpuException} (thrown, RIP at the faulting instruction). Returns the count executed.
     */
    public long run(long budget) { throw new UnsupportedOperationException(); }

    /** Exactly one instruction (for the interrupt shadow, single-step and lockstep tests). */
    public void step() { throw new UnsupportedOperationException(); }
}
