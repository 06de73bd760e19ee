package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Reg;

import java.util.List;

/**
 * How compiled methods call each other, assembler routines and the kernel's runtime routines.
 * It is the System V AMD64 ABI (psABI 1.0 section 3.2) restricted to integer arguments, so
 * compiled code and C or hand-written assembly can call one another, and host tests can call
 * compiled code through the FFM linker.
 *
 * Arguments: the first six in rdi, rsi, rdx, rcx, r8, r9 in order (a long or an int each take
 * one register; int, short, char, byte and boolean arguments are 32-bit values whose upper half
 * the callee ignores); later arguments on the stack, pushed right to left, 8 bytes each, removed
 * by the caller.
 * Result: rax (eax for int-like results, which are already sign- or zero-extended to 32 bits as
 * their Java type demands).
 * Callee-saved: rbx, rbp, r12, r13, r14, r15. Everything else, including the flags, is clobbered
 * by a call.
 * Stack: rsp is 16-byte aligned at every call instruction, so a callee sees rsp = 8 mod 16 at
 * entry.
 * Frame pointer: every compiled method starts with push rbp; mov rbp, rsp and keeps rbp fixed,
 * so [rbp] is the caller's rbp and [rbp + 8] the return address: a crash report walks the chain
 * of rbp values and maps each return address back to a method symbol. Callee-saved registers
 * the method uses are pushed right below the saved rbp; locals that do not get a register live
 * below them at negative rbp offsets.
 * Runtime routines called by compiled code (symbols in SymbolNames): they never return when they
 * panic, and the console routines follow the same convention as compiled methods.
 */
public final class CallingConvention {
    private CallingConvention() {
    }

    /** Registers carrying the first six arguments, in order. */
    public static final List<Reg> ARGUMENT_REGISTERS =
            List.of(Reg.RDI, Reg.RSI, Reg.RDX, Reg.RCX, Reg.R8, Reg.R9);

    /** Registers a callee must restore before returning (rbp is handled by the frame itself). */
    public static final List<Reg> CALLEE_SAVED = List.of(Reg.RBX, Reg.R12, Reg.R13, Reg.R14, Reg.R15);

    /** The result register. */
    public static final Reg RESULT = Reg.RAX;

    /** Required rsp alignment at a call instruction. */
    public static final int STACK_ALIGNMENT = 16;
}
