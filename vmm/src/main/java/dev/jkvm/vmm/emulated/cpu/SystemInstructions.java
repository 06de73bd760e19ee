package dev.jkvm.vmm.emulated.cpu;

/**
 * System instructions: everything that touches segmentation, control registers, MSRs, interrupts,
 * privilege, I/O or halting. The executor hands any instruction whose handler is
 * {@code SYSTEM} here whole. CONTRACT STUB (system side owns this file).
 *
 * <p>Contract: called with {@code cpu.s.rip} already pointing past the instruction; throws
 * {@link CpuException} with RIP restored by the caller; ends the current decoded block (the
 * executor returns to the run loop after it), so mode, paging or interrupt-flag changes take
 * effect for the next instruction.
 */
public class SystemInstructions {
    public void execute(X86Cpu cpu, Insn insn) { throw new UnsupportedOperationException(); }
}
