package dev.jkvm.vmm.emulated.lockstep;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
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
 * A 32-bit protected-mode kernel that raises exceptions through a 32-bit IDT (SDM Vol. 3A
 * §6.10-§6.13, Figure 6-2), for the lockstep: from the multiboot entry it loads its own GDT (ring 0
 * and ring 3 flat segments, a 32-bit TSS with ESP0/SS0, §8.2.1), an IDT with 32-bit interrupt gates
 * (#DE, #UD, #NP, #PF), trap gates (#BP, #GP, INT 0x80 with DPL 3), a not-present gate 0x81 and an
 * empty DPL-0 gate 0x82, turns on 32-bit paging with 4 MiB pages (CR4.PSE; the first 128 MiB
 * identity-mapped, user-accessible) and sets IF. Then in ring 0: DIV by zero, INT3, UD2, MOV DS with
 * a selector beyond the GDT limit (#GP(0x1230)), a read and a write of an unmapped address (#PF
 * error codes 0 and 2, CR2), INT 0x80, INT 0x81 (#NP(0x40A)); IRETD to ring 3 and there INT 0x80
 * (the privilege change: ESP0/SS0 from the TSS, SS:ESP pushed), CLI (#GP(0)), a user write of an
 * unmapped address (#PF error code 6), INT 0x80 with SS0's RPL 3 (#TS(0x10), through a gate to a
 * conforming segment, handled at CPL 3), INT 0x82 (#GP(0x412)), INT 0x85 (a ring-0 service loading
 * TR with a copy of the TSS descriptor whose limit, 7, leaves ESP0/SS0 out) and INT 0x80 again
 * (#TS(0x48)); the trace ends at a HLT in ring 3.
 * Interrupt gates clear IF and trap gates keep it: RFLAGS is compared at each handler's first step.
 * 16-bit gates (SDM Vol. 3A §6.11; QEMU implements them): their handler and the INTs that reach
 * them run in 32-bit code segments based at {@link #BASE16} (selectors 0x30 and 0x3B), so IPs fit 16
 * bits; in ring 0 INT 0x83 through a 16-bit interrupt gate (FLAGS, CS, IP pushed as words), in ring 3
 * on a stack below 64 KiB INT 0x84 through a 16-bit DPL-3 trap gate (SS, SP, FLAGS, CS, IP as words on
 * the ESP0/SS0 stack); both return with a 16-bit IRET, the second to ring 3 (ESP = the popped SP,
 * zero-extended: SDM Vol. 2A IRET), then again on a 16-bit stack segment (the IRET replaces only SP),
 * and there INT 0x80 through the 32-bit trap gate with garbage in ESP's upper half, whose IRETD
 * replaces only SP too (EBP at the end: that ESP).
 * EAX at the final HLT has a bit per 16-bit gate taken.
 *
 * <p>Each handler copies the frame into registers (EIP EAX, CS EBX, EFLAGS ECX, the outer ESP EDX
 * and SS EBP — stack contents when CPL did not change —, error code ESI, vector EDI) and returns
 * with IRETD to the address the scenario left in {@code pm_resume}.
 */
final class ProtectedModeExceptionKernel {
    static final long UNMAPPED = 0x1000_0000L;
    /**
     * Base of the code segments the 16-bit gates use: the kernel's text (from 0x101000, under 64 KiB
     * long) lies within 64 KiB of it, so its offsets fit the gates' and frames' 16-bit IPs.
     */
    static final long BASE16 = 0x10_0000L;
    /** Ring 3's stack for the 16-bit frame: below 64 KiB, so SP is the whole ESP. */
    static final int LOW_USER_STACK = 0x7000;

    private ProtectedModeExceptionKernel() {}

    static Path build() throws IOException {
        Assembler a = new Assembler(Mode.PROTECTED32);
        a.section("text", Section.Kind.CODE);
        Label entry = new Label("pm_entry");
        Label reload = new Label("pm_reload");
        Label idt = new Label("pm_idt");
        Label idtPointer = new Label("pm_idt_pointer");
        Label gdt = new Label("pm_gdt");
        Label gdtPointer = new Label("pm_gdt_pointer");
        Label tss = new Label("pm_tss");
        Label pd = new Label("pm_page_directory");
        Label kernelStack = new Label("pm_kernel_stack_top");
        Label ring0Stack = new Label("pm_ring0_stack_top");
        Label userStack = new Label("pm_user_stack_top");
        Label resume = new Label("pm_resume");
        Label vectorSlot = new Label("pm_vector");
        Label seen16 = new Label("pm_seen16");
        Label setGate = new Label("pm_set_gate");
        Label common = new Label("pm_common");
        // vector, gate type (0xE interrupt, 0xF trap), DPL, present, error code
        int[][] gates = {{0, 0xE, 0, 1, 0}, {3, 0xF, 0, 1, 0}, {6, 0xE, 0, 1, 0}, {10, 0xE, 0, 1, 1}, {11, 0xE, 0, 1, 1}, {13, 0xF, 0, 1, 1},
                {14, 0xE, 0, 1, 1}, {0x80, 0xF, 3, 1, 0}, {0x81, 0xE, 0, 0, 0}};
        Label[] handlers = new Label[gates.length];
        for (int i = 0; i < gates.length; i++) handlers[i] = new Label("pm_handler_" + gates[i][0]);

        a.bind(entry);
        a.cli().mov(ESP, kernelStack);
        a.lgdt(Mem.abs(gdtPointer)).jmpFar(0x08, reload, 32);
        a.bind(reload);
        a.mov(EAX, 0x10).mov(SegReg.DS, AX).mov(SegReg.ES, AX).mov(SegReg.SS, AX).mov(SegReg.FS, AX).mov(SegReg.GS, AX);
        // TSS: ESP0 at +4, SS0 at +8 (SDM Figure 8-2); descriptor 0x28: base, limit 0x67, type 9, present (Figure 8-3).
        a.mov(ESI, tss).mov(EAX, ring0Stack).mov(Mem.at(ESI, 4), EAX).mov(Mem.at(ESI, 8).m32(), 0x10);
        a.mov(EDX, gdt).mov(EAX, ESI).shl(EAX, 16).or(EAX, 0x67).mov(Mem.at(EDX, 0x28), EAX);
        a.mov(EAX, ESI).shr(EAX, 16).and(EAX, 0xFF).or(EAX, 0x8900).mov(ECX, ESI).and(ECX, 0xFF00_0000).or(EAX, ECX)
                .mov(Mem.at(EDX, 0x2C), EAX);
        // 0x48: the same TSS with limit 7, too short for ESP0/SS0 (bytes 4-9), for the last scenario.
        a.mov(Mem.at(EDX, 0x4C), EAX).mov(EAX, Mem.at(EDX, 0x28)).and(EAX, 0xFFFF_0000).or(EAX, 7).mov(Mem.at(EDX, 0x48), EAX);
        a.mov(EAX, 0x28).ltr(AX);
        // #TS's gate selects the conforming segment 0x40: no stack switch, so an invalid SS0 cannot fault its delivery again.
        for (int[] g : gates) {
            a.mov(EDI, g[0]).mov(ESI, handlers[java.util.Arrays.asList(gates).indexOf(g)])
                    .mov(EDX, IdtGate32.attributes(g[0] == 10 ? 0x40 : 0x08, g[1], g[2], g[3] != 0)).call(setGate);
        }
        // 16-bit gates: selector 0x30 (ring-0 code based at BASE16), the handler's offset in it (below 64 KiB, so the
        // upper offset word is zero, as the 80286 gate format has it: SDM Vol. 3A §6.11, 16-bit gates).
        Label handler16 = new Label("pm_handler16");
        Label[] h16 = {new Label("pm_handler_83"), new Label("pm_handler_84")};
        for (int i = 0; i < 2; i++) {
            a.mov(EDI, 0x83 + i).mov(ESI, h16[i]).sub(ESI, BASE16).mov(EDX, IdtGate32.attributes(0x30, 0x6 + i, i == 0 ? 0 : 3, true))
                    .call(setGate);
        }
        Label ring0Service = new Label("pm_handler_85");
        a.mov(EDI, 0x85).mov(ESI, ring0Service).mov(EDX, IdtGate32.attributes(0x08, 0xE, 3, true)).call(setGate);
        a.lidt(Mem.abs(idtPointer));
        // 32-bit paging, 4 MiB pages (SDM §4.3, Figure 4-4): 32 PDEs P|RW|US|PS, the rest not present.
        a.mov(EDX, pd).xor(ECX, ECX);
        Label pdLoop = new Label("pm_pd_loop");
        a.bind(pdLoop).mov(EAX, ECX).shl(EAX, 22).or(EAX, 0x87).mov(Mem.at(EDX).index(ECX, 4), EAX).inc(ECX)
                .cmp(ECX, 32).jcc(Cond.NE, pdLoop);
        a.mov(CtrlReg.CR3, EDX).mov(EAX, CtrlReg.CR4).or(EAX, 0x10).mov(CtrlReg.CR4, EAX);
        a.mov(EAX, CtrlReg.CR0).or(EAX, 0x8000_0000).mov(CtrlReg.CR0, EAX);
        a.sti();

        a.bind(new Label("pm_scenarios"));
        Label[] after = new Label[7];
        for (int i = 0; i < after.length; i++) after[i] = new Label("pm_after_" + i);
        scenario(a, resume, after[0]).xor(EDX, EDX).mov(EAX, 1).xor(ECX, ECX).div(ECX).bind(after[0]);     // #DE
        scenario(a, resume, after[1]).int3().bind(after[1]);                                                // #BP, trap gate
        scenario(a, resume, after[2]).ud2().bind(after[2]);                                                 // #UD
        scenario(a, resume, after[3]).mov(EAX, 0x1234).mov(SegReg.DS, AX).bind(after[3]);                  // #GP(0x1230)
        scenario(a, resume, after[4]).mov(EAX, UNMAPPED + 8).mov(EBX, Mem.at(EAX)).bind(after[4]);         // #PF 0
        scenario(a, resume, after[5]).mov(EAX, UNMAPPED + 0x10).mov(Mem.at(EAX), EBX).bind(after[5]);     // #PF 2
        scenario(a, resume, after[6]).intN(0x80).bind(after[6]);                                           // INT 0x80
        Label np = new Label("pm_after_np");
        scenario(a, resume, np).intN(0x81).bind(np);                                                        // #NP(0x40A)
        // 16-bit gates need a 16-bit IP: into the ring-0 code segment based at BASE16, INT 0x83 there
        // (16-bit interrupt gate, same privilege), back to the flat segment.
        Label low0 = new Label("pm_low0"), flat0 = new Label("pm_flat0");
        farReturnTo(a, 0x30, low0, BASE16);
        a.bind(low0).intN(0x83).bind(new Label("pm_after_83"));
        farReturnTo(a, 0x08, flat0, 0);
        a.bind(flat0);

        // Ring 3: IRETD with SS:ESP (SDM Vol. 2A IRET, return to outer privilege level).
        Label user = new Label("pm_user");
        a.mov(EAX, 0x23).mov(SegReg.DS, AX).mov(SegReg.ES, AX).mov(SegReg.FS, AX).mov(SegReg.GS, AX);
        a.push(0x23).mov(EAX, userStack).push(EAX).push(0x202).push(0x1B).mov(EAX, user).push(EAX).iret();
        a.bind(user);
        Label[] u = new Label[4];
        for (int i = 0; i < u.length; i++) u[i] = new Label("pm_user_after_" + i);
        scenario(a, resume, u[0]).intN(0x80).bind(u[0]);                                                   // privilege change
        scenario(a, resume, u[1]).cli().bind(u[1]);                                                        // #GP(0)
        scenario(a, resume, u[2]).mov(EAX, UNMAPPED + 0x10).mov(Mem.at(EAX), EBX).bind(u[2]);             // #PF 6
        // SS0 with RPL 3 (the TSS is user-accessible here): INT 0x80 from ring 3 raises #TS(0x10), SS0's
        // selector (SDM Vol. 2A INT n, INTER-PRIVILEGE-LEVEL-INTERRUPT: "IF NewSS.RPL != new CPL THEN
        // #TS(SS selector + EXT)"), taken at CPL 3 through the conforming segment; SS0 restored after.
        Label ts = new Label("pm_user_after_ts");
        a.mov(Mem.abs(tss).disp(8).m32(), 0x13);
        scenario(a, resume, ts).intN(0x80).bind(ts);
        a.mov(Mem.abs(tss).disp(8).m32(), 0x10).mov(Mem.abs(seen16).disp(4).m32(), ESI);         // #TS's error code, for the end
        // A 16-bit trap gate (DPL 3) from ring 3: SS0:ESP0 from the 32-bit TSS, SS, SP, FLAGS, CS, IP
        // pushed as words; its IRET (66 CF) returns to ring 3 with ESP = the popped SP zero-extended.
        Label low3 = new Label("pm_low3"), flat3 = new Label("pm_flat3");
        a.mov(ESP, LOW_USER_STACK);
        farReturnTo(a, 0x3B, low3, BASE16);
        a.bind(low3).intN(0x84).bind(new Label("pm_after_84"));
        farReturnTo(a, 0x1B, flat3, 0);
        a.bind(flat3).mov(ESP, userStack);
        // The same on a 16-bit stack segment (0x53, B = 0): the IRETW replaces only SP, ESP's upper half
        // keeps the ring-0 stack's bits (as hardware: what Linux's espfix hides).
        Label low3b = new Label("pm_low3b"), flat3b = new Label("pm_flat3b");
        a.mov(EAX, 0x53).mov(SegReg.SS, AX).mov(ESP, LOW_USER_STACK);
        farReturnTo(a, 0x3B, low3b, BASE16);
        a.bind(low3b).intN(0x84).bind(new Label("pm_after_84b"));
        farReturnTo(a, 0x1B, flat3b, 0);
        a.bind(flat3b);
        // INT 0x80 (32-bit trap gate) on that 16-bit stack segment with garbage in ESP's upper half: the
        // frame holds the whole ESP, and the handler's IRETD, back to SS 0x53 (B = 0), replaces only SP:
        // ESP's upper half is the ring-0 stack's (SDM Vol. 2A IRET, RETURN-TO-OUTER-PRIVILEGE-LEVEL).
        Label iretd16 = new Label("pm_user_after_iretd16");
        a.mov(ESP, 0xABCD_0000 | LOW_USER_STACK);
        scenario(a, resume, iretd16).intN(0x80).bind(iretd16);
        a.mov(Mem.abs(seen16).disp(16).m32(), ESP);                                                        // for the end
        a.mov(EAX, 0x23).mov(SegReg.SS, AX).mov(ESP, userStack);
        scenario(a, resume, u[3]).intN(0x82).bind(u[3]);                                                   // #GP(0x412)
        a.mov(Mem.abs(seen16).disp(8).m32(), ESI).mov(Mem.abs(seen16).disp(12).m32(), EBP);               // its error code, outer SS
        // INT 0x85 (DPL 3): a ring-0 service loads TR with the short TSS 0x48 and returns; INT 0x80 then
        // finds ESP0/SS0 beyond TR's limit: #TS(0x48) (SDM Vol. 2A INT n: TSSstackAddress + 5 > TSS limit).
        Label service = new Label("pm_after_service"), tsLimit = new Label("pm_after_ts_limit");
        scenario(a, resume, service).intN(0x85).bind(service);
        scenario(a, resume, tsLimit).intN(0x80).bind(tsLimit);
        a.mov(EAX, Mem.abs(seen16)).mov(EBX, Mem.abs(seen16).disp(4));                                     // 3; #TS's 0x10
        a.mov(ECX, Mem.abs(seen16).disp(8)).mov(EDX, Mem.abs(seen16).disp(12));                            // 0x412; 0x23
        a.mov(EBP, Mem.abs(seen16).disp(16));                                                              // ESP after the IRETD
        a.hlt();                                                                                           // the trace ends before it

        IdtGate32.emitSetGate(a, setGate, idt);

        // The 16-bit gates' handler: the word frame into registers (IP EAX, CS EBX, FLAGS ECX, SP EDX,
        // SS EBP: SP and SS only when CPL changed, else stack contents), vector EDI; IRET with a
        // 16-bit operand size (66 CF, SDM Vol. 2A IRET) to the instruction after the INT.
        for (int i = 0; i < 2; i++) a.bind(h16[i]).mov(EDI, 0x83 + i).or(Mem.abs(seen16).m32(), 1 << i).jmp(handler16);
        // INT 0x85's handler (ring 0): TR = the short TSS, return to pm_resume.
        a.bind(ring0Service).mov(EAX, 0x48).ltr(AX).mov(EAX, Mem.abs(resume)).mov(Mem.at(ESP), EAX).iret();
        a.bind(handler16);
        a.movzx(EAX, Mem.at(ESP).m16()).movzx(EBX, Mem.at(ESP, 2).m16()).movzx(ECX, Mem.at(ESP, 4).m16())
                .movzx(EDX, Mem.at(ESP, 6).m16()).movzx(EBP, Mem.at(ESP, 8).m16());
        a.db(0x66, 0xCF);

        for (int i = 0; i < gates.length; i++) {
            a.bind(handlers[i]);
            if (gates[i][4] == 0) a.push(0);
            a.mov(Mem.abs(vectorSlot).m32(), gates[i][0]).jmp(common);
        }
        a.bind(common);
        a.pop(ESI);
        a.mov(EAX, Mem.at(ESP)).mov(EBX, Mem.at(ESP, 4)).mov(ECX, Mem.at(ESP, 8)).mov(EDX, Mem.at(ESP, 12))
                .mov(EBP, Mem.at(ESP, 16));
        a.mov(EDI, Mem.abs(resume)).mov(Mem.at(ESP), EDI).mov(EDI, Mem.abs(vectorSlot)).iret();

        a.section("data", Section.Kind.DATA);
        a.align(8).bind(idt).db(new byte[0x86 * 8]);
        a.align(8).bind(idtPointer).dw(0x86 * 8 - 1).dd(idt);
        // GDT: null, 0x08 code, 0x10 data (DPL 0), 0x18 code, 0x20 data (DPL 3), 0x28 the TSS (filled at
        // run time), 0x30 and 0x38 32-bit code (DPL 0 and 3) based at BASE16 with a 64 KiB limit, 0x40
        // flat 32-bit conforming code, DPL 0 (the #TS gate's), 0x48 a copy of the TSS descriptor with limit 7,
        // 0x50 a 16-bit (B = 0) DPL-3 data segment, 64 KiB: a 16-bit stack for ring 3.
        a.align(8).bind(gdt).dq(0, 0x00CF9A000000FFFFL, 0x00CF92000000FFFFL, 0x00CFFA000000FFFFL, 0x00CFF2000000FFFFL, 0,
                0x00409A000000FFFFL | BASE16 << 16, 0x0040FA000000FFFFL | BASE16 << 16, 0x00CF9E000000FFFFL, 0,
                0x0000F2000000FFFFL);
        a.align(8).bind(gdtPointer).dw(11 * 8 - 1).dd(gdt);
        a.align(8).bind(resume).dd(0).bind(vectorSlot).dd(0).bind(seen16).dd(0, 0, 0, 0, 0);
        a.align(16).bind(tss).db(new byte[0x68]);
        a.align(4096).bind(pd).db(new byte[4096]);
        a.align(16).db(new byte[4096]).bind(kernelStack);
        a.align(16).db(new byte[4096]).bind(ring0Stack);
        a.align(16).db(new byte[4096]).bind(userStack);
        Path f = Files.createTempFile("lockstep-protected-mode", ".elf");
        f.toFile().deleteOnExit();
        new ImageBuilder().add(a).entry(entry).build().writeTo(f);
        return f;
    }

    /** {@code retf} to {@code selector:(target - base)}: a far transfer at the same privilege level. */
    private static void farReturnTo(Assembler a, int selector, Label target, long base) {
        a.push(selector).mov(EAX, target);
        if (base != 0) a.sub(EAX, base);
        a.push(EAX).retf();
    }

    private static Assembler scenario(Assembler a, Label resume, Label after) {
        return a.mov(Mem.abs(resume).m32(), after);
    }
}
