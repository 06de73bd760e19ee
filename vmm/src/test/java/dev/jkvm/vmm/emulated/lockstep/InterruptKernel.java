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
import dev.jkvm.klib.image.LongModeBoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A kernel that takes maskable interrupts from its own local APIC (xAPIC page at 0xFEE00000,
 * SDM Vol. 3A Ch. 10), for the lockstep in {@code InterruptLockstepTest}. Before the symbol
 * {@link #LOCKSTEP} (QEMU alone runs that far): long mode through {@link LongModeBoot}, both 8259s
 * masked (SeaBIOS leaves IRQ 0 open; the CPU under test has no PIC), the APIC page mapped with a
 * 2 MiB page (PCD) through a fourth page directory, IDT interrupt gates for vectors 0x30, 0x40,
 * 0x45, 0x60 and 0x70, R15 = the APIC page. From {@link LOCKSTEP} on both CPUs run, each with its
 * own LAPIC, and every step is compared:
 * <ol>
 *   <li>LAPIC set-up: SVR enabled (spurious 0xFF), LINT0/LINT1/error/timer LVTs masked, TPR 0; the
 *       version, SVR and LVT registers read back.</li>
 *   <li>Self-IPI (ICR: fixed, shorthand self, SDM §10.6.1) with IF=1: taken at the boundary right
 *       after the ICR store.</li>
 *   <li>Self-IPI with IF=0, read back in IRR, then STI: the interrupt shadow (SDM Vol. 2B STI) lets
 *       exactly one instruction run first.</li>
 *   <li>The same with STI; MOV SS: a second shadowing instruction does not extend the shadow
 *       (SDM Vol. 3A §6.8.3: only the first of consecutive ones is guaranteed to inhibit).</li>
 *   <li>TPR masking (SDM §10.8.3.1, §10.8.6): TPR 0x50 holds vector 0x40 in IRR with PPR 0x50; TPR
 *       0x40 (same class) still holds it; MOV CR8 = 3 releases it at the next boundary; CR8 read.</li>
 *   <li>ISR nesting: in vector 0x40's handler (IF=0) self-IPIs 0x60, 0x45 and 0x30 wait; after STI
 *       and one instruction 0x60 nests (ISR holds 0x40 and 0x60, PPR 0x60); after 0x40's EOI, 0x45
 *       is taken at once; its IRETQ re-enables IF and 0x30 is taken at the first boundary after it.</li>
 *   <li>STI; HLT with a self-IPI pending: HLT halts and wakes at once; the frame holds the RIP after HLT.</li>
 *   <li>The LAPIC timer, one-shot (divide by 1, 2,000,000 counts, vector 0x70) waited for with STI;
 *       HLT: whichever CPU's timer fires first, the interrupt is taken after the HLT, so even the
 *       boundary is the same in both.</li>
 *   <li>The LAPIC timer again (vector 0x71), now while the CPU spins in {@code JMP $} ({@link #SPIN})
 *       with IF=1: each CPU takes it after however many iterations its timer needs (not compared);
 *       the interrupted state is the same, and from the handler's first instruction on — frame,
 *       ISR/IRR/PPR, the return past the loop — everything is compared again.</li>
 *   <li>A self-IPI 0x50 whose gate names IST1 with TR loaded from a TSS descriptor of limit 0x23,
 *       too short for IST1: #TS with the TSS selector and EXT = 1 as error code (SDM Vol. 3A §6.13,
 *       Vol. 2A INT n "Operation"), delivered at the boundary where 0x50 was due; 0x50 stays in
 *       service until the #TS handler's EOI. QEMU 7.2 pushes the selector without EXT
 *       ({@link QemuDeviations}).</li>
 * </ol>
 * Every handler copies what the processor pushed into registers (RIP RAX, CS RBX, RFLAGS RCX,
 * RSP RDX, SS R8), reads ISR words 1-3 (vectors 32-127) into R9-R11, IRR words 1-3 into R12
 * (words 1 and 2) and R13 (word 3), PPR into R14, then writes EOI and returns with IRETQ, so the
 * lockstep compares frames and APIC state at the next steps. The trace ends at {@link #END}.
 */
final class InterruptKernel {
    static final String LOCKSTEP = "irq_lockstep";
    static final String END = "irq_end";
    static final String SPIN = "irq_spin";
    static final long APIC = 0xFEE0_0000L;
    static final int ICR_SELF_FIXED = 1 << 18;   // destination shorthand 01 (self), fixed delivery (SDM Figure 10-12)
    static final int TIMER_COUNT = 2_000_000;

    private InterruptKernel() {}

    static Path build() throws IOException {
        Assembler a = new Assembler(Mode.PROTECTED32);
        Label start = new Label("irq_start");
        Label entry = LongModeBoot.emit(a, start);
        a.section("text", Section.Kind.CODE);
        Label setGate = new Label("irq_set_gate");
        Label idt = new Label("irq_idt");
        Label idtPointer = new Label("irq_idt_pointer");
        Label apicPd = new Label("irq_apic_pd");
        Label lockstep = new Label(LOCKSTEP);
        int[] vectors = {0x30, 0x40, 0x45, 0x60, 0x70, 0x71, 10};
        Label[] handlers = new Label[vectors.length];
        for (int i = 0; i < vectors.length; i++) handlers[i] = new Label(String.format("irq_handler_%x", vectors[i]));

        a.bind(start);
        a.mov(AL, 0xFF).out(0x21, AL).out(0xA1, AL);                        // both 8259s masked (OCW1)
        // PDPT[3] -> a page directory whose entry 0x1F7 maps 0xFEE00000 (2 MiB, P RW PCD PS).
        a.mov(RAX, CtrlReg.CR3).mov(RBX, 0x000F_FFFF_FFFF_F000L).and(RAX, RBX);
        a.mov(RDX, Mem.at(RAX)).and(RDX, RBX);
        a.mov(RCX, apicPd).or(RCX, 3).mov(Mem.at(RDX, 3 * 8), RCX);
        a.mov(RCX, apicPd).mov(RAX, APIC | 0x93).mov(Mem.at(RCX, 0x1F7 * 8), RAX);
        a.mov(RAX, CtrlReg.CR3).mov(CtrlReg.CR3, RAX);
        for (int i = 0; i < vectors.length; i++) a.mov(RDI, vectors[i]).mov(RSI, handlers[i]).xor(EDX, EDX).call(setGate);
        Label istHandler = new Label("irq_handler_50");
        a.mov(RDI, 0x50).mov(RSI, istHandler).mov(EDX, 1).call(setGate);             // vector 0x50 on IST1
        a.lidt(Mem.abs(idtPointer));
        a.mov(R15, APIC).xor(EBP, EBP).jmp(lockstep);

        a.bind(lockstep);
        // 1. LAPIC set-up, read back.
        apicWrite(a, 0xF0, 0x1FF);
        for (int lvt : new int[] {0x350, 0x360, 0x370, 0x320}) apicWrite(a, lvt, 0x10000);
        apicWrite(a, 0x80, 0);
        a.mov(EAX, apic(0x30)).mov(EBX, apic(0xF0)).mov(ECX, apic(0x350)).mov(EDX, apic(0x320)).mov(ESI, apic(0xA0));
        // 2. IF=1, self-IPI 0x40: taken right after the ICR store.
        a.sti().nop();
        apicWrite(a, 0x300, ICR_SELF_FIXED | 0x40);
        a.nop().nop();
        // 3. IF=0, pending, STI shadow.
        a.cli();
        apicWrite(a, 0x300, ICR_SELF_FIXED | 0x45);
        a.mov(EAX, apic(0x220)).mov(EBX, apic(0xA0)).nop();
        a.sti().mov(EDI, 0x5717).nop().nop();
        // 4. STI; MOV SS: the second shadow does not extend the first.
        a.cli();
        apicWrite(a, 0x300, ICR_SELF_FIXED | 0x45);
        a.mov(ECX, LongModeBoot.DATA_SELECTOR);
        a.sti().mov(SegReg.SS, CX).mov(EDI, 0x3355).nop();
        // 5. TPR masking.
        apicWrite(a, 0x80, 0x50);
        apicWrite(a, 0x300, ICR_SELF_FIXED | 0x40);
        a.mov(EAX, apic(0xA0)).mov(EBX, apic(0x220)).mov(ECX, apic(0x80)).nop();
        apicWrite(a, 0x80, 0x40);
        a.mov(EAX, apic(0xA0)).mov(RDX, CtrlReg.CR8).nop();
        a.mov(EAX, 3).mov(CtrlReg.CR8, RAX).nop().nop();
        a.mov(RDX, CtrlReg.CR8).mov(ECX, apic(0x80));
        a.xor(EAX, EAX).mov(CtrlReg.CR8, RAX);
        // 6. Nesting inside vector 0x40's handler (EBP = 1 selects it there).
        a.mov(EBP, 1);
        apicWrite(a, 0x300, ICR_SELF_FIXED | 0x40);
        a.nop().xor(EBP, EBP).nop();
        // 7. STI; HLT with an interrupt pending.
        a.cli();
        apicWrite(a, 0x300, ICR_SELF_FIXED | 0x60);
        a.sti().hlt().nop();
        // 8. The LAPIC timer, one-shot, waited for in HLT.
        a.cli();
        apicWrite(a, 0x3E0, 0xB);                                             // divide by 1 (SDM Figure 10-10)
        apicWrite(a, 0x320, 0x70);                                            // one-shot, vector 0x70, unmasked
        apicWrite(a, 0x380, TIMER_COUNT);
        a.sti().hlt().nop();
        a.mov(EAX, apic(0x320)).mov(EBX, apic(0x380));
        a.cli();
        // 9. The LAPIC timer during a busy loop, no HLT: JMP $ changes no register, so the interrupted
        // state is the same whichever iteration each CPU's timer interrupts; the handler returns past it.
        Label spin = new Label(SPIN);
        Label spinAfter = new Label("irq_spin_after");
        apicWrite(a, 0x320, 0x71);                                            // one-shot, vector 0x71
        apicWrite(a, 0x380, TIMER_COUNT);
        a.sti().bind(spin).jmp(spin);
        a.bind(spinAfter).mov(EAX, apic(0x320)).cli();
        // 10. A self-IPI whose gate names IST1 while TR's limit (0x23) leaves IST1 (TSS bytes 0x24-0x2B)
        // out: #TS(TSS selector + EXT), EXT = 1 for an external event (SDM Vol. 3A §6.13; Vol. 2A INT n
        // "Operation", IA-32e mode: "IF TSSstackAddress + 7 > TSS limit THEN #TS(TSS selector + EXT)").
        Label gdt = new Label("irq_gdt"), gdtPointer = new Label("irq_gdt_pointer"), tss = new Label("irq_tss");
        a.mov(RSI, tss).mov(RAX, RSI).and(EAX, 0xFF_FFFF).shl(RAX, 16).or(RAX, 0x23);  // TSS descriptor, limit 0x23
        a.mov(RCX, 0x89L << 40).or(RAX, RCX);                                           // type 9, present (SDM Figure 8-4)
        a.mov(RCX, RSI).shr(RCX, 24).and(ECX, 0xFF).shl(RCX, 56).or(RAX, RCX);
        a.mov(RDX, gdt).mov(Mem.at(RDX, 0x18), RAX).mov(RCX, RSI).shr(RCX, 32).mov(Mem.at(RDX, 0x20), RCX);
        a.lgdt(Mem.abs(gdtPointer)).mov(EAX, 0x18).ltr(AX);
        a.sti().nop();
        apicWrite(a, 0x300, ICR_SELF_FIXED | 0x50);                                 // #TS at the next boundary
        a.nop().nop().cli();
        a.bind(new Label(END)).hlt();
        a.bind(istHandler).hlt();                                                   // never reached

        // Gate for vector RDI -> handler RSI: 64-bit interrupt gate, present, DPL 0 (SDM Vol. 3A Figure 6-8).
        IdtGate64.emitSetGate(a, setGate, idt);

        for (int i = 0; i < vectors.length; i++) {
            a.bind(handlers[i]);
            // #TS: its error code into RDI; the EOI below ends vector 0x50, in service since its delivery began.
            if (vectors[i] == 10) a.pop(RDI);
            record(a);
            if (vectors[i] == 0x40) {
                Label plain = new Label("irq_handler_40_plain");
                a.test(EBP, EBP).jcc(dev.jkvm.klib.asm.Cond.E, plain);
                apicWrite(a, 0x300, ICR_SELF_FIXED | 0x60);
                apicWrite(a, 0x300, ICR_SELF_FIXED | 0x45);
                apicWrite(a, 0x300, ICR_SELF_FIXED | 0x30);
                record(a);
                a.sti().mov(EDI, 0x4060).nop();                               // 0x60 nests after the MOV
                record(a);
                apicWrite(a, 0xB0, 0);                                        // EOI 0x40: 0x45 at once, then 0x30
                a.cli().nop();
                record(a);
                a.iretq();
                a.bind(plain);
            }
            if (vectors[i] == 0x70 || vectors[i] == 0x71) apicWrite(a, 0x320, 0x10000); // timer masked again
            if (vectors[i] == 0x71) a.mov(RDI, spinAfter).mov(Mem.at(RSP), RDI);   // return past the loop
            apicWrite(a, 0xB0, 0);
            a.iretq();
        }

        a.section("data", Section.Kind.DATA);
        a.align(4096).bind(apicPd).db(new byte[4096]);
        a.align(16).bind(idt).db(new byte[256 * 16]);
        a.align(16).bind(idtPointer).dw(256 * 16 - 1).dq(idt);
        // LongModeBoot's code and data descriptors at 0x08 and 0x10, then the TSS at 0x18 (16 bytes, filled at run time).
        a.align(16).bind(gdt).dq(0, 0x00AF9A000000FFFFL, 0x00CF92000000FFFFL, 0, 0);
        a.align(16).bind(gdtPointer).dw(5 * 8 - 1).dq(gdt);
        a.align(16).bind(tss).db(new byte[0x68]);
        Path f = Files.createTempFile("lockstep-interrupts", ".elf");
        f.toFile().deleteOnExit();
        new ImageBuilder().add(a).entry(entry).build().writeTo(f);
        return f;
    }

    private static Mem apic(int register) {
        return Mem.at(R15, register).m32();
    }

    private static void apicWrite(Assembler a, int register, int value) {
        a.mov(apic(register), value);
    }

    /** The frame into registers, then ISR words 1-3, IRR words 1-3 and PPR (see the class comment). */
    private static void record(Assembler a) {
        a.mov(RAX, Mem.at(RSP)).mov(RBX, Mem.at(RSP, 8)).mov(RCX, Mem.at(RSP, 16)).mov(RDX, Mem.at(RSP, 24))
                .mov(R8, Mem.at(RSP, 32));
        a.mov(R9D, apic(0x110)).mov(R10D, apic(0x120)).mov(R11D, apic(0x130));
        a.mov(R12D, apic(0x210)).shl(R12, 32).mov(R14D, apic(0x220)).or(R12, R14);
        a.mov(R13D, apic(0x230)).mov(R14D, apic(0xA0));
    }
}
