package dev.jkvm.vmm.emulated.lockstep;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.images.LongModeBoot;
import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.CtrlReg;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.asm.SegReg;
import dev.jkvm.klib.image.ImageBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A kernel that raises exceptions itself, for the lockstep: after {@link LongModeBoot} (64-bit,
 * CPL 0, first GiB identity-mapped) it fills IDT interrupt gates for #DE, NMI, #BP, #UD, #GP, #PF and
 * INT 0x80 (NMI for a test that injects one), then raises each: DIV by zero, INT3, UD2, a non-canonical load (#GP(0)), MOV DS with a
 * selector beyond the GDT limit (#GP(selector)), a read and a write of an unmapped address (#PF
 * with error codes 0 and 2, CR2), INT 0x80; then HLT. Each handler copies what the processor
 * pushed into registers (error code R12, RIP RAX, CS RBX, RFLAGS RCX, RSP RDX, SS R8, CR2 R9,
 * vector R11), so the lockstep compares the whole frame at the next steps, and returns with
 * IRETQ to the address the scenario left in R13.
 */
final class ExceptionKernel {
    private ExceptionKernel() {}

    static Path build() throws IOException {
        Assembler a = new Assembler(Mode.PROTECTED32);
        Label start = new Label("exc_start");
        Label entry = LongModeBoot.emit(a, start);
        a.section("text", Section.Kind.CODE);
        Label setGate = new Label("exc_set_gate");
        Label common = new Label("exc_common");
        Label idt = new Label("exc_idt");
        Label idtPointer = new Label("exc_idt_pointer");
        int[] vectors = {0, 2, 3, 6, 13, 14, 0x80};
        boolean[] errorCode = {false, false, false, false, true, true, false};
        Label[] handlers = new Label[vectors.length];
        for (int i = 0; i < vectors.length; i++) handlers[i] = new Label("exc_handler_" + vectors[i]);

        a.bind(start);
        for (int i = 0; i < vectors.length; i++) a.mov(RDI, vectors[i]).mov(RSI, handlers[i]).call(setGate);
        a.lidt(Mem.abs(idtPointer));
        Label[] after = new Label[8];
        for (int i = 0; i < after.length; i++) after[i] = new Label("exc_after_" + i);
        a.mov(R13, after[0]).xor(EDX, EDX).mov(EAX, 1).xor(ECX, ECX).div(ECX).bind(after[0]);   // #DE
        a.mov(R13, after[1]).int3().bind(after[1]);                                           // #BP (trap)
        a.mov(R13, after[2]).ud2().bind(after[2]);                                            // #UD
        a.mov(R13, after[3]).mov(RAX, 0x8000_0000_0000_0000L).mov(RBX, Mem.at(RAX)).bind(after[3]); // #GP(0)
        a.mov(R13, after[4]).mov(EAX, 0x1234).mov(SegReg.DS, AX).bind(after[4]);             // #GP(0x1230)
        a.mov(R13, after[5]).mov(RAX, 0x8000_0008L).mov(RBX, Mem.at(RAX)).bind(after[5]);   // #PF read, not present
        a.mov(R13, after[6]).mov(RAX, 0x8000_0010L).mov(Mem.at(RAX), RBX).bind(after[6]);   // #PF write
        a.mov(R13, after[7]).intN(0x80).bind(after[7]);                                       // INT n
        a.hlt();

        // Gate for vector RDI -> handler RSI: 64-bit interrupt gate, present, DPL 0 (SDM Vol. 3A Figure 6-8).
        a.bind(setGate);
        a.mov(RDX, RDI).shl(RDX, 4).mov(RCX, idt).add(RDX, RCX);
        a.mov(RAX, RSI).and(EAX, 0xFFFF);
        a.mov(RCX, (long) LongModeBoot.CODE64_SELECTOR << 16 | 0x8E00L << 32).or(RAX, RCX);
        a.mov(RCX, RSI).shr(RCX, 16).and(ECX, 0xFFFF).shl(RCX, 48).or(RAX, RCX);
        a.mov(Mem.at(RDX), RAX);
        a.mov(RCX, RSI).shr(RCX, 32).mov(Mem.at(RDX, 8), RCX);
        a.ret();

        for (int i = 0; i < vectors.length; i++) {
            a.bind(handlers[i]);
            if (!errorCode[i]) a.push(0);
            a.mov(R11, vectors[i]).jmp(common);
        }
        a.bind(common);
        a.pop(R12);
        a.mov(RAX, Mem.at(RSP)).mov(RBX, Mem.at(RSP, 8)).mov(RCX, Mem.at(RSP, 16)).mov(RDX, Mem.at(RSP, 24))
                .mov(R8, Mem.at(RSP, 32)).mov(R9, CtrlReg.CR2);
        a.mov(Mem.at(RSP), R13).iretq();

        a.section("data", Section.Kind.DATA);
        a.align(16).bind(idt).db(new byte[256 * 16]);
        a.align(16).bind(idtPointer).dw(256 * 16 - 1).dq(idt);
        Path f = Files.createTempFile("lockstep-exceptions", ".elf");
        f.toFile().deleteOnExit();
        new ImageBuilder().add(a).entry(entry).build().writeTo(f);
        return f;
    }
}
