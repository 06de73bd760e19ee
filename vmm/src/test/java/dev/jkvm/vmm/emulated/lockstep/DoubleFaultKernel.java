package dev.jkvm.vmm.emulated.lockstep;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.CtrlReg;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.image.ImageBuilder;
import dev.jkvm.klib.image.LongModeBoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A 64-bit kernel for the lockstep of the IA-32e exception paths {@link ExceptionKernel} does not
 * reach (SDM Vol. 3A §6.14.5, §6.15 Interrupt 8, Table 6-5): after {@link LongModeBoot} it loads a
 * TSS whose IST1 and IST2 point at two stacks of their own, and IDT interrupt gates for #DE, #BP
 * (IST2), #DF (IST1), #NP, #GP and #PF; then
 * <ol>
 *   <li>INT3 through the IST2 gate: the frame lands on the IST2 stack without a privilege change;</li>
 *   <li>#DE with its gate made not present: the #NP raised while delivering it is contributory
 *       after a contributory exception, so #DF(0) is delivered, on IST1, with RIP at the DIV;</li>
 *   <li>a read of an unmapped address with RSP also unmapped: the #PF raised while pushing the
 *       first #PF's frame gives #DF; CR2 holds the address of the second fault (the push);</li>
 *   <li>the #DF gate made not present too and #DE again: #NP while delivering #DE gives #DF, whose
 *       delivery faults again: triple fault, shutdown (QEMU run with -no-reboot exits).</li>
 * </ol>
 * Each handler copies what the processor pushed into registers (error code R12, RIP RAX, CS RBX,
 * RFLAGS RCX, RSP RDX, SS R8, CR2 R9, its own RSP on entry R10 — which stack it runs on —, vector
 * R11), puts R14 (a mapped stack top) as the RSP to return to, and returns with IRETQ to R13.
 */
final class DoubleFaultKernel {
    static final long UNMAPPED = 0x8000_0000L;

    private DoubleFaultKernel() {}

    static Path build() throws IOException {
        Assembler a = new Assembler(Mode.PROTECTED32);
        Label start = new Label("df_start");
        Label entry = LongModeBoot.emit(a, start);
        a.section("text", Section.Kind.CODE);
        Label setGate = new Label("df_set_gate");
        Label common = new Label("df_common");
        Label idt = new Label("df_idt");
        Label idtPointer = new Label("df_idt_pointer");
        Label gdt = new Label("df_gdt");
        Label gdtPointer = new Label("df_gdt_pointer");
        Label tss = new Label("df_tss");
        Label ist1 = new Label("df_ist1_top");
        Label ist2 = new Label("df_ist2_top");
        int[] vectors = {0, 3, 8, 11, 13, 14};
        int[] ists = {0, 2, 1, 0, 0, 0};
        boolean[] errorCode = {false, false, true, true, true, true};
        Label[] handlers = new Label[vectors.length];
        for (int i = 0; i < vectors.length; i++) handlers[i] = new Label("df_handler_" + vectors[i]);

        a.bind(start);
        for (int i = 0; i < vectors.length; i++) a.mov(RDI, vectors[i]).mov(RSI, handlers[i]).mov(EDX, ists[i]).call(setGate);
        a.lidt(Mem.abs(idtPointer));
        // TSS (SDM Figure 8-11): IST1 at +0x24, IST2 at +0x2C; descriptor type 9, limit 0x67 (Figure 8-4).
        a.mov(RSI, tss).mov(RAX, ist1).mov(Mem.at(RSI, 0x24), RAX).mov(RAX, ist2).mov(Mem.at(RSI, 0x2C), RAX);
        a.mov(RAX, RSI).and(EAX, 0xFF_FFFF).shl(RAX, 16).or(RAX, 0x67);
        a.mov(RCX, 0x89L << 40).or(RAX, RCX);
        a.mov(RCX, RSI).shr(RCX, 24).and(ECX, 0xFF).shl(RCX, 56).or(RAX, RCX);
        a.mov(RDX, gdt).mov(Mem.at(RDX, 0x18), RAX).mov(RCX, RSI).shr(RCX, 32).mov(Mem.at(RDX, 0x20), RCX);
        a.lgdt(Mem.abs(gdtPointer)).mov(EAX, 0x18).ltr(AX);
        a.mov(R14, RSP);
        a.bind(new Label("df_scenarios"));
        Label[] after = new Label[3];
        for (int i = 0; i < after.length; i++) after[i] = new Label("df_after_" + i);
        a.mov(R13, after[0]).int3().bind(after[0]);                                             // 1. IST2
        a.mov(RDX, idt).and(Mem.at(RDX, 0 * 16 + 5).m8(), 0x7F);                                // #DE gate not present
        a.mov(R13, after[1]).xor(EDX, EDX).mov(EAX, 1).xor(ECX, ECX).div(ECX).bind(after[1]);  // 2. #DE -> #NP -> #DF
        a.mov(R13, after[2]).mov(RSP, UNMAPPED).mov(RAX, UNMAPPED + 0x1000).mov(RBX, Mem.at(RAX)).bind(after[2]); // 3. #PF -> #PF -> #DF
        a.mov(RDX, idt).and(Mem.at(RDX, 8 * 16 + 5).m8(), 0x7F);                                // #DF gate not present
        a.bind(new Label("df_triple")).xor(EDX, EDX).mov(EAX, 1).xor(ECX, ECX).div(ECX);      // 4. triple fault
        a.hlt();

        // Gate for vector RDI -> handler RSI with IST EDX: 64-bit interrupt gate, present, DPL 0 (SDM Figure 6-8).
        a.bind(setGate);
        a.mov(R8, RDI).shl(R8, 4).mov(RCX, idt).add(R8, RCX);
        a.mov(RAX, RSI).and(EAX, 0xFFFF);
        a.mov(RCX, (long) LongModeBoot.CODE64_SELECTOR << 16 | 0x8E00L << 32).or(RAX, RCX);
        a.mov(RCX, RDX).shl(RCX, 32).or(RAX, RCX);
        a.mov(RCX, RSI).shr(RCX, 16).and(ECX, 0xFFFF).shl(RCX, 48).or(RAX, RCX);
        a.mov(Mem.at(R8), RAX);
        a.mov(RCX, RSI).shr(RCX, 32).mov(Mem.at(R8, 8), RCX);
        a.ret();

        for (int i = 0; i < vectors.length; i++) {
            a.bind(handlers[i]);
            a.mov(R10, RSP);
            if (!errorCode[i]) a.push(0);
            a.mov(R11, vectors[i]).jmp(common);
        }
        a.bind(common);
        a.pop(R12);
        a.mov(RAX, Mem.at(RSP)).mov(RBX, Mem.at(RSP, 8)).mov(RCX, Mem.at(RSP, 16)).mov(RDX, Mem.at(RSP, 24))
                .mov(R8, Mem.at(RSP, 32)).mov(R9, CtrlReg.CR2);
        a.mov(Mem.at(RSP), R13).mov(Mem.at(RSP, 24), R14).iretq();

        a.section("data", Section.Kind.DATA);
        a.align(16).bind(idt).db(new byte[256 * 16]);
        a.align(16).bind(idtPointer).dw(256 * 16 - 1).dq(idt);
        // GDT: null, 0x08 code64 and 0x10 data as LongModeBoot's, 0x18 the TSS (16 bytes, filled at run time).
        a.align(16).bind(gdt).dq(0, 0x00AF9A000000FFFFL, 0x00CF92000000FFFFL, 0, 0);
        a.align(16).bind(gdtPointer).dw(5 * 8 - 1).dq(gdt);
        a.align(16).bind(tss).db(new byte[0x68]);
        a.align(16).db(new byte[4096]).bind(ist1);
        a.align(16).db(new byte[4096]).bind(ist2);
        Path f = Files.createTempFile("lockstep-double-fault", ".elf");
        f.toFile().deleteOnExit();
        new ImageBuilder().add(a).entry(entry).build().writeTo(f);
        return f;
    }
}
