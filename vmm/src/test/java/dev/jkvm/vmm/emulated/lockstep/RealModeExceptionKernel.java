package dev.jkvm.vmm.emulated.lockstep;

import static dev.jkvm.klib.asm.Reg.*;

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
 * A kernel that goes from the multiboot entry (flat 32-bit protected mode) back to real mode and
 * raises exceptions and software interrupts through the real-mode IVT (SDM Vol. 3A §21.1.4,
 * "Interrupt and Exception Handling" in real-address mode), for the lockstep. The switch follows
 * SDM §10.9.2: IDTR = base 0, limit 0x3FF; a far return into a 16-bit code segment whose base is
 * 0xFFFF0, so the kernel's code (above 1 MiB, A20 on) runs in place; 16-bit data segments; CR0.PE
 * cleared; a far return to CS 0xFFFF. In real mode it fills IVT entries for #DE, #BP (its handler
 * reached through CS 0xFFFE, so delivery loads another CS), #OF, #UD and INT 0x21, sets IF, and
 * raises: DIV by zero, INT3, INTO with OF set, UD2, INT 0x21; the trace ends at a HLT.
 *
 * <p>Each handler copies the frame (IP AX, CS BX, FLAGS CX: IF and TF as pushed, SDM: cleared on
 * entry, compared in RFLAGS) into registers, DI = vector, and returns with IRET to the IP the
 * scenario left at 0:0x600.
 */
final class RealModeExceptionKernel {
    /** The real-mode code segment: base 0xFFFF0, so IP = linear address - 0xFFFF0 (SDM §21.1.1). */
    private static final long CS_BASE = 0xFFFF0;
    private static final int RESUME = 0x600;

    private RealModeExceptionKernel() {}

    static Path build() throws IOException {
        Assembler a = new Assembler(Mode.PROTECTED32);
        a.section("text", Section.Kind.CODE);
        Label entry = new Label("rm_entry");
        Label gdt = new Label("rm_gdt");
        Label gdtPointer = new Label("rm_gdt_pointer");
        Label ivtPointer = new Label("rm_ivt_pointer");
        Label pm16 = new Label("rm_pm16");
        Label real = new Label("rm_real");
        int[] vectors = {0, 3, 4, 6, 0x21};
        int[] segments = {0xFFFF, 0xFFFE, 0xFFFF, 0xFFFF, 0xFFFF};
        Label[] handlers = new Label[vectors.length];
        for (int i = 0; i < vectors.length; i++) handlers[i] = new Label("rm_handler_" + vectors[i]);

        a.bind(entry);
        a.cli().lgdt(Mem.abs(gdtPointer)).lidt(Mem.abs(ivtPointer));
        a.mov(EAX, pm16).sub(EAX, (int) CS_BASE).push(0x08).push(EAX).retf();
        a.setMode(Mode.REAL16);
        a.bind(pm16);
        a.mov(AX, 0x10).mov(SegReg.DS, AX).mov(SegReg.ES, AX).mov(SegReg.SS, AX).mov(SegReg.FS, AX).mov(SegReg.GS, AX);
        a.mov(EAX, CtrlReg.CR0).and(EAX, 0x7FFF_FFFE).mov(CtrlReg.CR0, EAX);
        a.mov(EAX, real).sub(EAX, (int) CS_BASE).push(0xFFFF).push(AX).retf();
        a.bind(real);
        a.xor(AX, AX).mov(SegReg.DS, AX).mov(SegReg.ES, AX).mov(SegReg.SS, AX).mov(SP, 0x8000);
        for (int i = 0; i < vectors.length; i++) {
            long base = (long) segments[i] << 4;
            a.mov(EAX, handlers[i]).sub(EAX, (int) base).mov(Mem.abs(vectors[i] * 4).m16(), AX)
                    .mov(Mem.abs(vectors[i] * 4 + 2).m16(), segments[i]);
        }
        a.sti();
        a.bind(new Label("rm_scenarios"));
        Label[] after = new Label[5];
        for (int i = 0; i < after.length; i++) after[i] = new Label("rm_after_" + i);
        scenario(a, after[0]).xor(DX, DX).mov(AX, 1).xor(CX, CX).div(CX).bind(after[0]);   // #DE
        scenario(a, after[1]).int3().bind(after[1]);                                        // #BP, CS 0xFFFE
        scenario(a, after[2]).mov(AL, 0x7F).add(AL, 1).db(new byte[] {(byte) 0xCE}).bind(after[2]); // INTO, OF=1
        scenario(a, after[3]).ud2().bind(after[3]);                                         // #UD
        scenario(a, after[4]).intN(0x21).bind(after[4]);                                    // INT 0x21
        a.hlt();

        for (int i = 0; i < vectors.length; i++) {
            a.bind(handlers[i]);
            a.push(BP).mov(BP, SP).mov(AX, Mem.at(BP, 2)).mov(BX, Mem.at(BP, 4)).mov(CX, Mem.at(BP, 6));
            a.mov(SI, Mem.abs(RESUME).m16()).mov(Mem.at(BP, 2), SI).mov(DI, vectors[i]).pop(BP).iret();
        }

        a.setMode(Mode.PROTECTED32);
        a.section("data", Section.Kind.DATA);
        // GDT: null, 0x08 16-bit code (base 0xFFFF0, limit 0xFFFF, type 0x9A), 0x10 16-bit data (base 0, limit 0xFFFF).
        a.align(8).bind(gdt).dq(0, 0x00009A0FFFF0FFFFL, 0x000092000000FFFFL);
        a.align(8).bind(gdtPointer).dw(3 * 8 - 1).dd(gdt);
        a.align(8).bind(ivtPointer).dw(0x3FF).dd(0);
        Path f = Files.createTempFile("lockstep-real-mode", ".elf");
        f.toFile().deleteOnExit();
        new ImageBuilder().add(a).entry(entry).build().writeTo(f);
        return f;
    }

    private static Assembler scenario(Assembler a, Label after) {
        return a.mov(EAX, after).sub(EAX, (int) CS_BASE).mov(Mem.abs(RESUME).m16(), AX);
    }
}
