package dev.jkvm.vmm.emulated.lockstep;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
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
 * A kernel that arms the debug registers (Intel SDM Vol. 3B §17.2) and runs into its breakpoints,
 * for the lockstep: after {@link LongModeBoot} (64-bit, CPL 0) it installs a #DB handler that
 * copies DR6 (R9) and the frame (RIP RAX, CS RBX, RFLAGS RCX, RSP RDX, SS R8) into registers,
 * counts in R10, clears DR6, sets RF in the pushed RFLAGS (from CPL 3 also clears DR7.L0) and returns with IRETQ; #UD and #GP
 * handlers record the vector (R11) and error code (R12) and return to R13. Then:
 * <ol>
 *   <li>an instruction breakpoint (DR0, L0) on an instruction run twice in a loop: a #DB fault
 *       before it each time (RIP at it, RF clear in the frame), the IRETQ's RF lets it run once;</li>
 *   <li>write breakpoints of each length, 1 (DR1), 2 (DR2, G2), 4 (DR3) and 8 (DR0), each next to
 *       stores that miss by a byte and reads that do not count, hit by byte/word/qword MOVs, by an
 *       unaligned qword store overlapping the range, by a PUSH (#DB traps after them) and by one
 *       iteration of a REP STOSB (the trap after it, RIP on the instruction, RF in the frame);</li>
 *   <li>a read/write breakpoint hit by a CMP read overlapping it, by ADD and by LOCK INC on it;</li>
 *   <li>two data breakpoints hit by one store (DR6 B0|B1, with a third armed and missed), that store
 *       itself under an instruction breakpoint (DR3): the fault first (B3), then the trap;</li>
 *   <li>MOV from DR5 and to DR4 with CR4.DE clear (DR7 and DR6), MOV from DR4 with CR4.DE set
 *       (#UD), DR7 and DR6 with bits 63:32 set (#GP(0));</li>
 *   <li>ring 3 (own GDT, TSS RSP0, U bits on the boot page tables, IRETQ to CPL 3): an instruction
 *       breakpoint and a write breakpoint there, their #DB taken on RSP0; MOV to DR7 at CPL 3
 *       (#GP(0)); then the HLT the trace stops at.</li>
 * </ol>
 */
final class DebugRegisterKernel {
    private DebugRegisterKernel() {}

    /** DR7 bits enabling breakpoint {@code i} locally with R/W {@code rw} and LEN code {@code len} (SDM Figure 17-1). */
    static long dr7(int i, int rw, int len) {
        return 1L << (2 * i) | (long) rw << (16 + 4 * i) | (long) len << (18 + 4 * i);
    }

    static final int EXEC = 0, WRITE = 1, READ_WRITE = 3;
    /** LEN codes (SDM §17.2.5): 1, 2, 8 and 4 bytes. */
    static final int LEN1 = 0, LEN2 = 1, LEN8 = 2, LEN4 = 3;

    /** MOV DRn, RAX (0F 23 /r, mod 11, reg n, r/m RAX: always 64-bit in 64-bit mode, SDM Vol. 2B MOV DR). */
    private static void toDr(Assembler a, int n) {
        a.db(0x0F, 0x23, 0xC0 | n << 3);
    }

    /** MOV RAX, DRn (0F 21 /r). */
    private static void fromDr(Assembler a, int n) {
        a.db(0x0F, 0x21, 0xC0 | n << 3);
    }

    private static void setDr7(Assembler a, long value) {
        a.mov(RAX, value | 0x400);
        toDr(a, 7);
    }

    static Path build() throws IOException {
        Assembler a = new Assembler(Mode.PROTECTED32);
        Label start = new Label("dbg_start");
        Label entry = LongModeBoot.emit(a, start);
        a.section("text", Section.Kind.CODE);
        Label setGate = new Label("dbg_set_gate");
        Label idt = new Label("dbg_idt");
        Label idtPointer = new Label("dbg_idt_pointer");
        Label dbHandler = new Label("dbg_db");
        Label udHandler = new Label("dbg_ud");
        Label gpHandler = new Label("dbg_gp");
        Label fault = new Label("dbg_fault");
        Label data = new Label("dbg_data");

        a.bind(start);
        a.mov(RDI, 1).mov(RSI, dbHandler).xor(EDX, EDX).call(setGate);
        a.mov(RDI, 6).mov(RSI, udHandler).xor(EDX, EDX).call(setGate);
        a.mov(RDI, 13).mov(RSI, gpHandler).xor(EDX, EDX).call(setGate);
        a.lidt(Mem.abs(idtPointer));
        a.mov(R15, data).add(R15, 2048).mov(RDI, 0x1122_3344_5566_7788L).xor(R10, R10).xor(R14, R14);

        // 1. Instruction breakpoint, passed twice.
        Label bp1 = new Label("dbg_bp1"), loop1 = new Label("dbg_loop1");
        a.mov(RAX, bp1);
        toDr(a, 0);
        setDr7(a, dr7(0, EXEC, LEN1));
        a.mov(ESI, 2);
        a.bind(loop1).bind(bp1).add(R14, 1).dec(ESI).jcc(Cond.NE, loop1);

        // 2. Write breakpoints of each length.
        a.lea(RAX, Mem.at(R15, 3));
        toDr(a, 1);
        setDr7(a, dr7(1, WRITE, LEN1));
        a.mov(Mem.at(R15, 4).m8(), 1).mov(Mem.at(R15, 2).m8(), 1);          // next to it: no #DB
        a.mov(Mem.at(R15, 2).m16(), 0x55);                                  // bytes 2-3: hit
        a.mov(R12, Mem.at(R15));                                            // a read: no #DB
        a.lea(RAX, Mem.at(R15, 8));
        toDr(a, 2);
        setDr7(a, dr7(2, WRITE, LEN2) | 2L << 4);                           // L2 and G2
        a.mov(Mem.at(R15, 10).m8(), 1).mov(Mem.at(R15, 9).m8(), 7);          // miss, then hit byte 9
        a.lea(RAX, Mem.at(R15, 16));
        toDr(a, 3);
        setDr7(a, dr7(3, WRITE, LEN4));
        a.mov(Mem.at(R15, 12), RDI);                                        // unaligned 12-19 overlaps 16-19: hit
        a.mov(Mem.at(R15, 20).m32(), 5);                                    // 20-23: no #DB
        a.lea(RAX, Mem.at(R15, 32));
        toDr(a, 0);
        setDr7(a, dr7(0, WRITE, LEN8));
        a.mov(Mem.at(R15, 40).m8(), 1).mov(Mem.at(R15, 39).m8(), 1);         // miss, then hit byte 39
        a.mov(R13, RSP).lea(RSP, Mem.at(R15, 40)).push(RDI).mov(RSP, R13);   // PUSH writes 32-39: hit
        // REP STOSB over 64-79 with a byte breakpoint at 72: a trap after the ninth iteration, RIP still on
        // the instruction (RCX 7 left), RF = 1 in the frame (SDM §17.3.1.1); the IRETQ resumes it.
        a.lea(RAX, Mem.at(R15, 72));
        toDr(a, 2);
        setDr7(a, dr7(2, WRITE, LEN1));
        a.mov(R13, RDI).lea(RDI, Mem.at(R15, 64)).mov(ECX, 16).mov(EAX, 0x5A).rep().stosb().mov(RDI, R13);

        // 3. Read/write breakpoint.
        a.lea(RAX, Mem.at(R15, 48));
        toDr(a, 1);
        setDr7(a, dr7(1, READ_WRITE, LEN4));
        a.cmp(Mem.at(R15, 52).m32(), 0);                                    // 52-55: no #DB
        a.cmp(Mem.at(R15, 50).m32(), 0);                                    // 50-53 overlaps 48-51: hit
        a.add(Mem.at(R15, 48).m32(), 1);                                    // read and write: one #DB
        a.lock().inc(Mem.at(R15, 48).m32());                                // locked: hit

        // 4. Two data breakpoints by one store, under an instruction breakpoint.
        Label both = new Label("dbg_both");
        a.mov(RAX, R15);
        toDr(a, 0);
        a.lea(RAX, Mem.at(R15, 4));
        toDr(a, 1);
        a.lea(RAX, Mem.at(R15, 56));
        toDr(a, 2);
        a.mov(RAX, both);
        toDr(a, 3);
        setDr7(a, dr7(0, WRITE, LEN8) | dr7(1, WRITE, LEN4) | dr7(2, READ_WRITE, LEN1) | dr7(3, EXEC, LEN1));
        a.bind(both).mov(Mem.at(R15), RDI);
        setDr7(a, 0);

        // 5. DR4/DR5 aliases, CR4.DE, reserved bits.
        Label[] after = new Label[4];
        for (int i = 0; i < after.length; i++) after[i] = new Label("dbg_after_" + i);
        setDr7(a, dr7(2, WRITE, LEN2));
        fromDr(a, 5);                                                       // DR7 (CR4.DE = 0)
        a.mov(RBP, RAX).mov(EAX, 0x1);
        toDr(a, 4);                                                         // DR6 <- 1 | fixed ones
        fromDr(a, 6);
        a.mov(RDI, RAX);                                                    // kept to the end (the ring-3 store's value)
        a.mov(RAX, CtrlReg.CR4).or(RAX, 8).mov(CtrlReg.CR4, RAX);
        a.mov(R13, after[0]);
        fromDr(a, 4);                                                       // #UD with CR4.DE = 1
        a.bind(after[0]);
        a.mov(RAX, CtrlReg.CR4).and(RAX, ~8L).mov(CtrlReg.CR4, RAX);
        a.mov(R13, after[1]).mov(RAX, 1L << 32 | 0x400);
        toDr(a, 7);                                                         // #GP(0)
        a.bind(after[1]).mov(R13, after[2]).mov(RAX, 1L << 40);
        toDr(a, 6);                                                         // #GP(0)
        a.bind(after[2]);
        setDr7(a, 0);

        // 6. Ring 3: GDT with user segments and a TSS (RSP0), U bits on the boot page tables.
        Label gdt = new Label("dbg_gdt"), gdtPointer = new Label("dbg_gdt_pointer"), tss = new Label("dbg_tss");
        Label kernelStack = new Label("dbg_kernel_stack_top"), userStack = new Label("dbg_user_stack_top");
        Label user = new Label("dbg_user"), pdLoop = new Label("dbg_pd_loop"), ubp = new Label("dbg_ubp");
        a.mov(RSI, tss).mov(RAX, kernelStack).mov(Mem.at(RSI, 4), RAX);
        // TSS descriptor (SDM Vol. 3A Figure 8-4): limit 0x67, type 9, present.
        a.mov(RAX, RSI).and(EAX, 0xFF_FFFF).shl(RAX, 16).or(RAX, 0x67);
        a.mov(RCX, 0x89L << 40).or(RAX, RCX);
        a.mov(RCX, RSI).shr(RCX, 24).and(ECX, 0xFF).shl(RCX, 56).or(RAX, RCX);
        a.mov(RDX, gdt).mov(Mem.at(RDX, 0x30), RAX).mov(RCX, RSI).shr(RCX, 32).mov(Mem.at(RDX, 0x38), RCX);
        a.lgdt(Mem.abs(gdtPointer)).mov(EAX, 0x30).ltr(AX);
        a.mov(RAX, CtrlReg.CR3).mov(RBX, 0x000F_FFFF_FFFF_F000L).and(RAX, RBX);
        a.or(Mem.at(RAX).m64(), 4).mov(RDX, Mem.at(RAX)).and(RDX, RBX).or(Mem.at(RDX).m64(), 4);
        a.mov(RDX, Mem.at(RDX)).and(RDX, RBX).xor(ECX, ECX);
        a.bind(pdLoop).or(Mem.at(RDX).index(RCX, 8).m64(), 4).inc(ECX).cmp(ECX, 512).jcc(Cond.NE, pdLoop);
        a.mov(RAX, CtrlReg.CR3).mov(CtrlReg.CR3, RAX);
        a.mov(RAX, ubp);
        toDr(a, 0);
        a.lea(RAX, Mem.at(R15, 8));
        toDr(a, 1);
        setDr7(a, dr7(0, EXEC, LEN1) | dr7(1, WRITE, LEN8));
        a.push(0x23).mov(RAX, userStack).push(RAX).push(2).push(0x2B).mov(RAX, user).push(RAX).iretq();
        a.bind(user).bind(ubp).add(R14, 1);                                 // instruction breakpoint at CPL 3
        a.mov(Mem.at(R15, 8), RDI);                                         // write breakpoint at CPL 3
        a.mov(R13, after[3]).mov(EAX, 0x400);
        toDr(a, 7);                                                         // #GP(0) at CPL 3
        a.bind(after[3]).hlt();                                             // the trace ends before it

        IdtGate64.emitSetGate(a, setGate, idt);
        a.bind(dbHandler);
        fromDr(a, 6);
        a.mov(R9, RAX).xor(EAX, EAX);
        toDr(a, 6);
        a.inc(R10);
        a.mov(RAX, Mem.at(RSP)).mov(RBX, Mem.at(RSP, 8)).mov(RCX, Mem.at(RSP, 16)).mov(RDX, Mem.at(RSP, 24))
                .mov(R8, Mem.at(RSP, 32));
        a.bts(Mem.at(RSP, 16).m64(), 16);                                   // RF: the instruction breakpoint lets it run (SDM §17.3.1.1)
        // From CPL 3 the handler also disarms DR0 (L0) instead of relying on RF alone: QEMU's gdbstub
        // step would raise the breakpoint again across the privilege change (QemuDeviations).
        Label fromKernel = new Label("dbg_db_from_kernel");
        a.test(Mem.at(RSP, 8).m8(), 3).jcc(Cond.E, fromKernel);
        fromDr(a, 7);
        a.and(RAX, ~1L);
        toDr(a, 7);
        a.bind(fromKernel);
        a.iretq();
        a.bind(udHandler).push(0).mov(R11, 6).jmp(fault);
        a.bind(gpHandler).mov(R11, 13);
        a.bind(fault).pop(R12).mov(Mem.at(RSP), R13).iretq();

        a.section("data", Section.Kind.DATA);
        a.align(16).bind(idt).db(new byte[256 * 16]);
        a.align(16).bind(idtPointer).dw(256 * 16 - 1).dq(idt);
        // GDT as ExceptionKernel's: null, 0x08 kernel code64, 0x10 data, 0x18 user code32, 0x20 user data,
        // 0x28 user code64, 0x30 the TSS (filled at run time).
        a.align(16).bind(gdt).dq(0, 0x00AF9A000000FFFFL, 0x00CF92000000FFFFL, 0x00CFFA000000FFFFL, 0x00CFF2000000FFFFL,
                0x00AFFA000000FFFFL, 0, 0);
        a.align(16).bind(gdtPointer).dw(8 * 8 - 1).dq(gdt);
        a.align(16).bind(tss).db(new byte[0x68]);
        a.align(4096).bind(data).db(new byte[4096]);
        a.align(16).db(new byte[4096]).bind(kernelStack);
        a.align(16).db(new byte[4096]).bind(userStack);
        Path f = Files.createTempFile("lockstep-debug-registers", ".elf");
        f.toFile().deleteOnExit();
        new ImageBuilder().add(a).entry(entry).build().writeTo(f);
        return f;
    }
}
