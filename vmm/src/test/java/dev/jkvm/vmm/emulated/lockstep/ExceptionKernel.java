package dev.jkvm.vmm.emulated.lockstep;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.image.LongModeBoot;
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
 * with error codes 0 and 2, CR2), INT 0x80; with its own GDT and TSS loaded, MOV SS with a
 * not-present segment (#SS(0x40), gate on IST2); then from ring 3 (U bits set on the
 * boot page tables, IRETQ to CPL 3) CLI (#GP(0)), a user read and write of an unmapped address (#PF
 * error codes 4 and 6), INT 0x80 through a DPL-3 gate and INT 0x81 through an empty (DPL-0) one (#GP(0x40A)),
 * each delivered on the TSS's RSP0 stack; INT 0x82 through a DPL-3 gate with IST1 (ring 3 -> 0 on the
 * IST1 stack, SS null with RPL 0: SDM Vol. 3A §6.14.4-§6.14.5); INT 0x83 (a ring-0 service loading TR
 * with a copy of the TSS descriptor whose limit, 0x0A, leaves RSP0 out) and INT 0x80 again: #TS(0x48)
 * (SDM Vol. 2A INT n "Operation"), delivered through a gate to a conforming code segment, so its
 * handler runs at CPL 3 on the user stack; then a HLT the trace stops at. Each handler copies what the processor
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
        int[] vectors = {0, 2, 3, 6, 12, 13, 14, 0x80, 0x82};
        boolean[] errorCode = {false, false, false, false, true, true, true, false, false};
        int[] ists = {0, 0, 0, 0, 2, 0, 0, 0, 1};
        Label[] handlers = new Label[vectors.length];
        for (int i = 0; i < vectors.length; i++) handlers[i] = new Label("exc_handler_" + vectors[i]);

        a.bind(start);
        for (int i = 0; i < vectors.length; i++) a.mov(RDI, vectors[i]).mov(RSI, handlers[i]).mov(EDX, ists[i]).call(setGate);
        // #TS through a gate to a conforming code segment (0x58): no stack switch, the handler runs at
        // the interrupted CPL (SDM Vol. 3A §6.12.1.1), so a TSS too short for RSP0 cannot fault it again.
        Label tsHandler = new Label("exc_handler_10");
        a.mov(RDI, 10).mov(RSI, tsHandler).xor(EDX, EDX).call(setGate).mov(Mem.abs(idt).disp(10 * 16 + 2).m16(), 0x58);
        Label ring0 = new Label("exc_handler_83");
        a.mov(RDI, 0x83).mov(RSI, ring0).xor(EDX, EDX).call(setGate);
        a.lidt(Mem.abs(idtPointer));
        Label[] after = new Label[9];
        for (int i = 0; i < after.length; i++) after[i] = new Label("exc_after_" + i);
        a.mov(R13, after[0]).xor(EDX, EDX).mov(EAX, 1).xor(ECX, ECX).div(ECX).bind(after[0]);   // #DE
        a.mov(R13, after[1]).int3().bind(after[1]);                                           // #BP (trap)
        a.mov(R13, after[2]).ud2().bind(after[2]);                                            // #UD
        a.mov(R13, after[3]).mov(RAX, 0x8000_0000_0000_0000L).mov(RBX, Mem.at(RAX)).bind(after[3]); // #GP(0)
        a.mov(R13, after[4]).mov(EAX, 0x1234).mov(SegReg.DS, AX).bind(after[4]);             // #GP(0x1230)
        a.mov(R13, after[5]).mov(RAX, 0x8000_0008L).mov(RBX, Mem.at(RAX)).bind(after[5]);   // #PF read, not present
        a.mov(R13, after[6]).mov(RAX, 0x8000_0010L).mov(Mem.at(RAX), RBX).bind(after[6]);   // #PF write
        a.mov(R13, after[7]).intN(0x80).bind(after[7]);                                       // INT n

        // Ring 3: own GDT with user segments and a TSS (RSP0), U bits on the boot page tables, INT 0x80 gate DPL 3.
        Label gdt = new Label("exc_gdt");
        Label gdtPointer = new Label("exc_gdt_pointer");
        Label tss = new Label("exc_tss");
        Label kernelStack = new Label("exc_kernel_stack_top");
        Label userStack = new Label("exc_user_stack_top");
        Label istStack = new Label("exc_ist1_top");
        Label ist2Stack = new Label("exc_ist2_top");
        Label user = new Label("exc_user");
        Label pdLoop = new Label("exc_pd_loop");
        a.mov(RSI, tss).mov(RAX, kernelStack).mov(Mem.at(RSI, 4), RAX);                        // TSS.RSP0
        a.mov(RAX, istStack).mov(Mem.at(RSI, 0x24), RAX).mov(RAX, ist2Stack).mov(Mem.at(RSI, 0x2C), RAX); // IST1, IST2 (Figure 8-11)
        // TSS descriptor (SDM Vol. 3A Figure 8-4): limit 0x67, type 9 (available 64-bit TSS), present.
        a.mov(RAX, RSI).and(EAX, 0xFF_FFFF).shl(RAX, 16).or(RAX, 0x67);
        a.mov(RCX, 0x89L << 40).or(RAX, RCX);
        a.mov(RCX, RSI).shr(RCX, 24).and(ECX, 0xFF).shl(RCX, 56).or(RAX, RCX);
        a.mov(RDX, gdt).mov(Mem.at(RDX, 0x30), RAX).mov(RCX, RSI).shr(RCX, 32).mov(Mem.at(RDX, 0x38), RCX);
        // 0x48: the same TSS with limit 0x0A, too short for RSP0 (bytes 4-11), for the #TS scenario.
        a.mov(RCX, RAX).and(RCX, -0x10000L).or(RCX, 0x0A).mov(Mem.at(RDX, 0x48), RCX);
        a.mov(RCX, RSI).shr(RCX, 32).mov(Mem.at(RDX, 0x50), RCX);
        a.lgdt(Mem.abs(gdtPointer)).mov(EAX, 0x30).ltr(AX);
        a.mov(RAX, CtrlReg.CR3).mov(RBX, 0x000F_FFFF_FFFF_F000L).and(RAX, RBX);
        a.or(Mem.at(RAX).m64(), 4).mov(RDX, Mem.at(RAX)).and(RDX, RBX).or(Mem.at(RDX).m64(), 4);
        a.mov(RDX, Mem.at(RDX)).and(RDX, RBX).xor(ECX, ECX);
        a.bind(pdLoop).or(Mem.at(RDX).index(RCX, 8).m64(), 4).inc(ECX).cmp(ECX, 512).jcc(dev.jkvm.klib.asm.Cond.NE, pdLoop);
        a.mov(RAX, CtrlReg.CR3).mov(CtrlReg.CR3, RAX);
        a.mov(RDX, idt).or(Mem.at(RDX, 0x80 * 16 + 5).m8(), 0x60);                              // INT 0x80 gate DPL 3
        a.or(Mem.at(RDX, 0x82 * 16 + 5).m8(), 0x60).or(Mem.at(RDX, 0x83 * 16 + 5).m8(), 0x60);   // INT 0x82 (IST1), 0x83 DPL 3
        // #SS, delivered on IST2 (at CPL 0: QemuDeviations' null SS), now that the TSS is loaded.
        a.mov(R13, after[8]).mov(EAX, 0x40).mov(SegReg.SS, AX).bind(after[8]);              // #SS(0x40): SS not present
        a.push(0x23).mov(RAX, userStack).push(RAX).push(2).push(0x2B).mov(RAX, user).push(RAX).iretq();
        a.bind(user);
        Label[] u = new Label[8];
        for (int i = 0; i < u.length; i++) u[i] = new Label("exc_user_after_" + i);
        a.mov(R13, u[0]).cli().bind(u[0]);                                                      // #GP(0): CLI at CPL 3, IOPL 0
        a.mov(R13, u[1]).mov(RAX, 0x8000_0008L).mov(RBX, Mem.at(RAX)).bind(u[1]);              // #PF error 4 (user read)
        a.mov(R13, u[2]).mov(RAX, 0x8000_0010L).mov(Mem.at(RAX), RBX).bind(u[2]);              // #PF error 6 (user write)
        a.mov(R13, u[3]).intN(0x80).bind(u[3]);                                                 // INT 0x80 through a DPL-3 gate
        a.mov(R13, u[4]).intN(0x81).bind(u[4]);                                                 // #GP(0x40A): absent gate, DPL 0
        a.mov(R13, u[5]).intN(0x82).bind(u[5]);                                                 // IST1 with CPL 3 -> 0: SS null, RPL 0
        a.mov(R13, u[6]).intN(0x83).bind(u[6]);                                                 // ring 0: TR = 0x48 (limit 0x0A)
        a.mov(R13, u[7]).intN(0x80).bind(u[7]);                                                 // #TS(0x48): RSP0 beyond the TSS limit
        a.hlt();                                                                                // the trace ends before it

        // Gate for vector RDI -> handler RSI: 64-bit interrupt gate, present, DPL 0 (SDM Vol. 3A Figure 6-8).
        IdtGate64.emitSetGate(a, setGate, idt);

        for (int i = 0; i < vectors.length; i++) {
            a.bind(handlers[i]);
            if (!errorCode[i]) a.push(0);
            a.mov(R11, vectors[i]).jmp(common);
        }
        // INT 0x83 from ring 3: loads TR with the short TSS (LTR needs CPL 0) and returns to R13.
        a.bind(ring0).mov(EAX, 0x48).ltr(AX).mov(Mem.at(RSP), R13).iretq();
        // #TS at CPL 3 (conforming segment): the frame as in the common handler, without CR2 (privileged).
        a.bind(tsHandler).pop(R12);
        a.mov(RAX, Mem.at(RSP)).mov(RBX, Mem.at(RSP, 8)).mov(RCX, Mem.at(RSP, 16)).mov(RDX, Mem.at(RSP, 24))
                .mov(R8, Mem.at(RSP, 32)).mov(R11, 10);
        a.mov(Mem.at(RSP), R13).iretq();
        a.bind(common);
        a.pop(R12);
        a.mov(RAX, Mem.at(RSP)).mov(RBX, Mem.at(RSP, 8)).mov(RCX, Mem.at(RSP, 16)).mov(RDX, Mem.at(RSP, 24))
                .mov(R8, Mem.at(RSP, 32)).mov(R9, CtrlReg.CR2);
        a.mov(Mem.at(RSP), R13).iretq();

        a.section("data", Section.Kind.DATA);
        a.align(16).bind(idt).db(new byte[256 * 16]);
        a.align(16).bind(idtPointer).dw(256 * 16 - 1).dq(idt);
        // GDT: null, 0x08 kernel code64 and 0x10 data as LongModeBoot's, 0x18 user code32, 0x20 user
        // data, 0x28 user code64 (selectors 0x23/0x2B with RPL 3), 0x30 the TSS (16 bytes, filled at run time).
        // 0x40 a not-present writable data segment (#SS on MOV SS), 0x48 the short TSS (16 bytes, filled
        // at run time), 0x58 a conforming 64-bit code segment, DPL 0 (the #TS gate's).
        a.align(16).bind(gdt).dq(0, 0x00AF9A000000FFFFL, 0x00CF92000000FFFFL, 0x00CFFA000000FFFFL, 0x00CFF2000000FFFFL,
                0x00AFFA000000FFFFL, 0, 0, 0x00CF12000000FFFFL, 0, 0, 0x00AF9E000000FFFFL);
        a.align(16).bind(gdtPointer).dw(12 * 8 - 1).dq(gdt);
        a.align(16).bind(tss).db(new byte[0x68]);
        a.align(16).db(new byte[4096]).bind(kernelStack);
        a.align(16).db(new byte[4096]).bind(userStack);
        a.align(16).db(new byte[4096]).bind(istStack);
        a.align(16).db(new byte[4096]).bind(ist2Stack);
        Path f = Files.createTempFile("lockstep-exceptions", ".elf");
        f.toFile().deleteOnExit();
        new ImageBuilder().add(a).entry(entry).build().writeTo(f);
        return f;
    }
}
