package dev.jkvm.vmm.emulated.lockstep;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.image.LongModeBoot;

/** The IDT gate writer the 64-bit lockstep kernels share (ExceptionKernel, InterruptKernel, DoubleFaultKernel, QemuStackFaultDeviationTest); {@link IdtGate32} is the 32-bit one. */
final class IdtGate64 {
    private IdtGate64() {}

    /**
     * Emits, at {@code setGate}, a routine called with RDI = vector, RSI = handler address and
     * RDX = IST index (0 for the current stack, 1..7 a TSS IST slot) that writes a present, DPL-0
     * 64-bit interrupt gate (type 0xE) for {@link LongModeBoot#CODE64_SELECTOR} into the 16-byte slot
     * of the IDT at {@code idt} (SDM Vol. 3A §6.14.1, Figure 6-8). Clobbers RAX, RCX and R8.
     */
    static void emitSetGate(Assembler a, Label setGate, Label idt) {
        a.bind(setGate);
        a.mov(R8, RDI).shl(R8, 4).mov(RCX, idt).add(R8, RCX);
        a.mov(RAX, RSI).and(EAX, 0xFFFF);
        a.mov(RCX, (long) LongModeBoot.CODE64_SELECTOR << 16 | 0x8E00L << 32).or(RAX, RCX);
        a.mov(RCX, RDX).shl(RCX, 32).or(RAX, RCX);
        a.mov(RCX, RSI).shr(RCX, 16).and(ECX, 0xFFFF).shl(RCX, 48).or(RAX, RCX);
        a.mov(Mem.at(R8), RAX);
        a.mov(RCX, RSI).shr(RCX, 32).mov(Mem.at(R8, 8), RCX);
        a.ret();
    }
}
