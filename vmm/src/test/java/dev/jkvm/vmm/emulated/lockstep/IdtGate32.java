package dev.jkvm.vmm.emulated.lockstep;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;

/** The IDT gate writer the 32-bit lockstep kernels share (ProtectedModeExceptionKernel, FixedIpiKernel). */
final class IdtGate32 {
    private IdtGate32() {}

    /** EDX for {@link #emitSetGate}: code-segment {@code selector}, P, {@code dpl}, {@code type} (0xE interrupt, 0xF trap; 0x6/0x7 16-bit). */
    static long attributes(int selector, int type, int dpl, boolean present) {
        return (long) selector << 16 | (present ? 1 << 15 : 0) | dpl << 13 | type << 8;
    }

    /**
     * Emits, at {@code setGate}, a routine called with EDI = vector, ESI = handler offset and EDX =
     * {@link #attributes} that writes the 8-byte gate into the IDT at {@code idt} (SDM Vol. 3A §6.11,
     * Figure 6-2: offset 15:0, selector; P, DPL, type; offset 31:16, which a 16-bit gate's handler
     * below 64 KiB leaves zero). Clobbers EAX and EBX.
     */
    static void emitSetGate(Assembler a, Label setGate, Label idt) {
        a.bind(setGate);
        a.mov(EBX, idt).lea(EBX, Mem.at(EBX).index(EDI, 8));
        a.mov(EAX, EDX).and(EAX, 0xFFFF_0000).mov(Mem.at(EBX), EAX).mov(Mem.at(EBX).m16(), SI);
        a.mov(EAX, ESI).and(EAX, 0xFFFF_0000).mov(AX, DX).mov(Mem.at(EBX, 4), EAX);
        a.ret();
    }
}
