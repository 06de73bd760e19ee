package dev.jkvm.vmm.emulated.lockstep;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
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
 * A two-vCPU kernel for {@code SmpLockstepTest}: fixed IPIs between the vCPUs, so that an interrupt
 * arrives at an instruction boundary the test chooses — the other vCPU's ICR store — while the
 * receiver runs ordinary code (no HLT, no self-IPI). Both vCPUs run in the multiboot entry's flat
 * 32-bit protected mode (paging off) with one IDT of 32-bit interrupt gates (SDM Vol. 3A Figure 6-2).
 *
 * <p>Before {@link #LOCKSTEP} (QEMU alone): the BSP masks both 8259s, writes the IDT, saves its GDTR,
 * CS and DS for the AP, copies a real-mode trampoline to 0x8000 and starts the AP with INIT-SIPI
 * (vector 8). The AP loads the BSP's GDT, enters protected mode ({@code jmp far} through the saved
 * CS:EIP), loads the IDT, sets {@link #READY} and spins until {@link #GO} is 1. From {@link #LOCKSTEP}
 * the test steps both vCPUs in a fixed interleaving; every LAPIC register write happens in the
 * lockstep (each CPU under test has its own fresh LAPIC):
 * <ol>
 *   <li>BSP, TF set by POPFD, then POP SS and again MOV SS: the single-step trap after the stack
 *       load is held for one instruction (SDM Vol. 3A §6.8.3, §17.3.1.4), so #DB's frame has the
 *       EIP after the instruction that follows (vector 1's handler clears TF in the frame).</li>
 *   <li>BSP with IF=1 stops right after MOV SS ({@link #BSP_SHADOWED}); the AP sends fixed IPI 0x40
 *       to APIC ID 0 ({@link #AP_SENT1}); the BSP runs one more instruction before taking it (the MOV SS
 *       shadow alone, no STI: SDM Vol. 3A §6.8.3, Vol. 2B MOV "Loading the SS register with a MOV
 *       instruction suppresses or inhibits ... interrupts ... on the following instruction boundary").</li>
 *   <li>BSP stopped right after LSS ESP, m16:32 ({@link #BSP_LSS}); the AP sends 0x44. LSS loads SS
 *       and ESP together and sets no shadow (SDM Vol. 3A §6.8.3 names MOV SS and POP SS only), but
 *       QEMU 7.2 inhibits interrupts after it ({@link QemuDeviations}): the test checks both and
 *       gives the CPU under test QEMU's shadow, so 0x44 is taken one instruction later in both.</li>
 *   <li>BSP stopped right after MOV SS again ({@link #BSP_NMI_SHADOWED}); the AP sends an NMI IPI.
 *       MOV SS blocks NMIs on the next boundary too (SDM Vol. 3A §6.8.3; Vol. 3C §24.4.2, "Blocking
 *       by MOV SS": "interrupts (maskable and nonmaskable)"), and the emulated CPU holds it; QEMU 7.2
 *       delivers it at once ({@link QemuDeviations}): the test checks ours has the shadow, then
 *       clears it so that both deliver the NMI at that boundary.</li>
 *   <li>BSP with IF=1 stopped right after POP SS ({@link #BSP_POP_SS_SHADOWED}); the AP sends fixed
 *       IPI 0x45; the BSP runs one more instruction before taking it (POP SS's shadow, SDM Vol. 2B
 *       POP: "inhibits all interrupts, including the NMI interrupt, until after execution of the
 *       next instruction").</li>
 *   <li>BSP in a busy loop ({@link #BSP_LOOP}: INC EBP; CMP; JE) stopped at a chosen step; the AP
 *       sends 0x41; the BSP takes it at the next boundary, inside the loop; the handler's flag ends it.</li>
 *   <li>BSP in a loop that toggles IF ({@link #BSP_LOOP2}: CLI; INC; STI; CMP; JE) stopped after its
 *       CLI; the AP sends 0x43: held through INC (IF=0) and STI's shadow, taken before the JE.</li>
 *   <li>The reverse: the BSP sends fixed IPI 0x42 to APIC ID 1 and waits for the AP's flag; the AP
 *       (STI, then a loop on the flag) takes it after the STI shadow, sets the flag, and halts.</li>
 * </ol>
 * Every handler copies the frame into registers (EIP EAX, CS EBX, EFLAGS ECX), reads ISR bits 64-95
 * (vectors 0x40-0x5F) into EDX and IRR bits 64-95 into ESI, sets its flag byte, writes EOI and
 * returns with IRETD; #DB's puts DR6.BS in EDX instead. The BSP ends at {@link #END}, the AP at {@link #AP_END}.
 * Labels {@code ipi_ret_db1}, {@code ipi_ret_db2}, {@code ipi_ret_40} ... mark the EIP each event's frame must hold.
 */
final class FixedIpiKernel {
    static final String LOCKSTEP = "ipi_lockstep";
    static final String BSP_SHADOWED = "ipi_bsp_shadowed";
    static final String BSP_LOOP = "ipi_bsp_loop";
    static final String BSP_LOOP2_STI = "ipi_bsp_loop2_after_cli";
    static final String BSP_WAIT_AP = "ipi_bsp_wait_ap";
    static final String END = "ipi_end";
    static final String AP_SENT1 = "ipi_ap_sent1";
    static final String AP_SENT2 = "ipi_ap_sent2";
    static final String AP_SENT_LSS = "ipi_ap_sent_lss";
    static final String AP_SENT_NMI = "ipi_ap_sent_nmi";
    static final String BSP_NMI_SHADOWED = "ipi_bsp_nmi_shadowed";
    static final String BSP_LSS = "ipi_bsp_after_lss";
    static final String BSP_POP_SS_SHADOWED = "ipi_bsp_pop_ss_shadowed";
    static final String AP_SENT_POP_SS = "ipi_ap_sent_pop_ss";
    static final String AP_SENT3 = "ipi_ap_sent3";
    static final String AP_END = "ipi_ap_end";
    /** Shared bytes in low memory: READY, GO, the handlers' flags (vector - 0x40), the AP's start data. */
    static final int READY = 0x7F00, GO = 0x7F01, FLAGS = 0x7F04, AP_GDTR = 0x7F10, AP_JUMP = 0x7F20, AP_DS = 0x7F28, LSS_POINTER = 0x7F30;
    static final long APIC = 0xFEE0_0000L;
    /** ICR: fixed delivery, physical destination, level assert (SDM Vol. 3A Figure 10-12). */
    static final int ICR_FIXED = 0x4000;

    private FixedIpiKernel() {}

    static Path build() throws IOException {
        Assembler a = new Assembler(Mode.PROTECTED32);
        a.section("text", Section.Kind.CODE);
        Label entry = new Label("ipi_entry");
        Label stack = new Label("ipi_stack_top");
        Label apStack = new Label("ipi_ap_stack_top");
        Label tramp = new Label("ipi_trampoline");
        Label trampEnd = new Label("ipi_trampoline_end");
        Label ap32 = new Label("ipi_ap32");
        Label idt = new Label("ipi_idt");
        Label idtPointer = new Label("ipi_idt_pointer");
        int[] vectors = {1, 2, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45};
        Label[] handlers = new Label[vectors.length];
        for (int i = 0; i < vectors.length; i++) handlers[i] = new Label(String.format("ipi_handler_%x", vectors[i]));

        a.bind(entry).cli().mov(ESP, stack);
        a.mov(AL, 0xFF).out(0x21, AL).out(0xA1, AL);                                   // both 8259s masked (OCW1)
        // Interrupt gates (type 0xE, P, DPL 0) with the multiboot loader's CS: SDM Vol. 3A Figure 6-2.
        Label setGate = new Label("ipi_set_gate");
        for (int i = 0; i < vectors.length; i++) {
            a.mov(EDX, 0).mov(DX, SegReg.CS).shl(EDX, 16).or(EDX, IdtGate32.attributes(0, 0xE, 0, true));
            a.mov(EDI, vectors[i]).mov(ESI, handlers[i]).call(setGate);
        }
        a.lidt(Mem.abs(idtPointer));
        // What the AP needs to enter the same protected mode: GDTR, CS:EIP of its 32-bit code, DS.
        a.sgdt(Mem.abs(AP_GDTR));
        a.mov(EAX, ap32).mov(Mem.abs(AP_JUMP).m32(), EAX).mov(AX, SegReg.CS).mov(Mem.abs(AP_JUMP + 4).m16(), AX);
        a.mov(AX, SegReg.DS).mov(Mem.abs(AP_DS).m16(), AX);
        a.mov(ESI, tramp).mov(EDI, 0x8000).mov(ECX, trampEnd).sub(ECX, ESI).rep().movsb();
        a.mov(Mem.abs(READY).m32(), 0).mov(Mem.abs(FLAGS).m32(), 0);
        a.mov(Mem.abs(APIC + 0x310).m32(), 1 << 24).mov(Mem.abs(APIC + 0x300).m32(), 0x4500);  // INIT to APIC ID 1
        a.mov(Mem.abs(APIC + 0x310).m32(), 1 << 24).mov(Mem.abs(APIC + 0x300).m32(), 0x4608);  // SIPI, vector 8
        Label wait = new Label("ipi_wait_ready");
        a.bind(wait).pause().cmp(Mem.abs(READY).m8(), 1).jcc(Cond.NE, wait);

        a.bind(new Label(LOCKSTEP));
        a.mov(Mem.abs(APIC + 0xF0).m32(), 0x1FF);                                      // SVR: enabled, spurious 0xFF
        a.mov(Mem.abs(APIC + 0x350).m32(), 0x10000);                                   // LINT0 masked
        a.mov(Mem.abs(GO).m8(), 1);
        // 1. TF across POP SS, then MOV SS: the trap comes after the instruction that follows.
        a.mov(CX, SegReg.SS).push(ECX);
        a.pushf().or(Mem.at(ESP).m32(), 0x100).popf();
        a.pop(SegReg.SS).mov(EDI, 0x1001).bind(new Label("ipi_ret_db1")).nop();
        a.mov(CX, SegReg.SS);
        a.pushf().or(Mem.at(ESP).m32(), 0x100).popf();
        a.mov(SegReg.SS, CX).mov(EDI, 0x1002).bind(new Label("ipi_ret_db2")).nop();
        // 2. IF=1; the AP's IPI arrives right after MOV SS.
        a.mov(CX, SegReg.SS).sti().nop();
        a.mov(SegReg.SS, CX).bind(new Label(BSP_SHADOWED)).mov(EDI, 0x2001).bind(new Label("ipi_ret_40")).nop().nop();
        // 2b. LSS ESP, [LSS_POINTER] loads SS without a shadow: the AP's IPI 0x44 is taken right after it.
        a.mov(CX, SegReg.SS).mov(Mem.abs(LSS_POINTER).m32(), ESP).mov(Mem.abs(LSS_POINTER + 4).m16(), CX).mov(Mem.abs(GO).m8(), 2);
        a.db(0x0F, 0xB2, 0x25).dd(LSS_POINTER);                                         // lss esp, [LSS_POINTER]
        a.bind(new Label(BSP_LSS)).mov(EDI, 0x2002).bind(new Label("ipi_ret_44")).nop();
        // 3. A busy loop the AP's IPI interrupts.
        // 2c. An NMI IPI arriving right after MOV SS.
        a.mov(CX, SegReg.SS).mov(Mem.abs(GO).m8(), 3);
        a.mov(SegReg.SS, CX).bind(new Label(BSP_NMI_SHADOWED)).bind(new Label("ipi_ret_2")).mov(EDI, 0x2003).nop();
        // 2d. IF=1; the AP's IPI 0x45 arrives right after POP SS: held one instruction, as after MOV SS.
        a.mov(CX, SegReg.SS).push(ECX).mov(Mem.abs(GO).m8(), 6);
        a.pop(SegReg.SS).bind(new Label(BSP_POP_SS_SHADOWED)).mov(EDI, 0x2004).bind(new Label("ipi_ret_45")).nop();
        a.xor(EBP, EBP).mov(Mem.abs(GO).m8(), 4);
        Label loop = new Label(BSP_LOOP);
        a.bind(loop).inc(EBP).bind(new Label("ipi_ret_41")).cmp(Mem.abs(FLAGS + 1).m8(), 0).jcc(Cond.E, loop);
        // 4. A loop with IF toggled.
        a.mov(Mem.abs(GO).m8(), 5);
        Label loop2 = new Label("ipi_bsp_loop2");
        a.bind(loop2).cli().bind(new Label(BSP_LOOP2_STI)).inc(EBP).sti().cmp(Mem.abs(FLAGS + 3).m8(), 0)
                .bind(new Label("ipi_ret_43")).jcc(Cond.E, loop2);
        // 5. The BSP interrupts the AP.
        a.mov(Mem.abs(APIC + 0x310).m32(), 1 << 24).mov(Mem.abs(APIC + 0x300).m32(), ICR_FIXED | 0x42);
        Label waitAp = new Label(BSP_WAIT_AP);
        a.bind(waitAp).cmp(Mem.abs(FLAGS + 2).m8(), 0).jcc(Cond.E, waitAp);
        a.cli();
        a.bind(new Label(END)).hlt();

        // The AP in protected mode: the BSP's segments and IDT, its own stack.
        a.bind(ap32);
        a.mov(AX, Mem.abs(AP_DS)).mov(SegReg.DS, AX).mov(SegReg.ES, AX).mov(SegReg.SS, AX).mov(ESP, apStack);
        a.lidt(Mem.abs(idtPointer));
        a.mov(Mem.abs(READY).m8(), 1);
        Label apWait1 = new Label("ipi_ap_wait1");
        a.bind(apWait1).cmp(Mem.abs(GO).m8(), 1).jcc(Cond.NE, apWait1);
        a.mov(Mem.abs(APIC + 0xF0).m32(), 0x1FF);
        a.mov(Mem.abs(APIC + 0x310).m32(), 0).mov(Mem.abs(APIC + 0x300).m32(), ICR_FIXED | 0x40);
        Label apWaitLss = new Label(AP_SENT1);
        a.bind(apWaitLss).cmp(Mem.abs(GO).m8(), 2).jcc(Cond.NE, apWaitLss);
        a.mov(Mem.abs(APIC + 0x300).m32(), ICR_FIXED | 0x44);
        Label apWait2 = new Label(AP_SENT_LSS);
        a.bind(apWait2).cmp(Mem.abs(GO).m8(), 3).jcc(Cond.NE, apWait2);
        a.mov(Mem.abs(APIC + 0x300).m32(), 0x4400);                                 // NMI (delivery mode 100b) to APIC ID 0
        Label apWaitNmi = new Label(AP_SENT_NMI);
        a.bind(apWaitNmi).cmp(Mem.abs(GO).m8(), 6).jcc(Cond.NE, apWaitNmi);
        a.mov(Mem.abs(APIC + 0x300).m32(), ICR_FIXED | 0x45);
        Label apWaitPopSs = new Label(AP_SENT_POP_SS);
        a.bind(apWaitPopSs).cmp(Mem.abs(GO).m8(), 4).jcc(Cond.NE, apWaitPopSs);
        a.mov(Mem.abs(APIC + 0x300).m32(), ICR_FIXED | 0x41);
        Label apWait3 = new Label(AP_SENT2);
        a.bind(apWait3).cmp(Mem.abs(GO).m8(), 5).jcc(Cond.NE, apWait3);
        a.mov(Mem.abs(APIC + 0x300).m32(), ICR_FIXED | 0x43);
        a.bind(new Label(AP_SENT3)).sti();
        Label apIdle = new Label("ipi_ap_idle");
        a.bind(apIdle).cmp(Mem.abs(FLAGS + 2).m8(), 0).bind(new Label("ipi_ret_42")).jcc(Cond.E, apIdle);
        a.cli();
        a.bind(new Label(AP_END)).hlt();

        for (int i = 0; i < vectors.length; i++) {
            a.bind(handlers[i]);
            a.mov(EAX, Mem.at(ESP)).mov(EBX, Mem.at(ESP, 4)).mov(ECX, Mem.at(ESP, 8));
            if (vectors[i] == 1) {
                a.db(0x0F, 0x21, 0xF2).and(EDX, 0x4000);                               // mov edx, dr6: DR6.BS (SDM §17.2.3)
                a.and(Mem.at(ESP, 8).m32(), ~0x100);                                   // TF off in the frame
            } else if (vectors[i] == 2) {
                a.mov(Mem.abs(FLAGS + 8).m8(), 1);                                     // no EOI: an NMI sets no ISR bit
            } else {
                a.mov(EDX, Mem.abs(APIC + 0x120)).mov(ESI, Mem.abs(APIC + 0x220));
                a.mov(Mem.abs(FLAGS + vectors[i] - 0x40).m8(), 1);
                a.mov(Mem.abs(APIC + 0xB0).m32(), 0);                                   // EOI
            }
            a.iret();
        }

        IdtGate32.emitSetGate(a, setGate, idt);

        // The AP's real-mode trampoline (copied to 0x8000, run at CS 0x0800): into the BSP's protected mode.
        a.setMode(Mode.REAL16);
        a.bind(tramp);
        a.xor(AX, AX).mov(SegReg.DS, AX);
        a.lgdt(Mem.abs(AP_GDTR).size(48));
        a.mov(EAX, dev.jkvm.klib.asm.CtrlReg.CR0).or(EAX, 1).mov(dev.jkvm.klib.asm.CtrlReg.CR0, EAX);
        a.jmpFar(Mem.abs(AP_JUMP).size(48));
        a.bind(trampEnd);
        a.setMode(Mode.PROTECTED32);

        a.section("data", Section.Kind.DATA);
        a.align(8).bind(idt).db(new byte[0x46 * 8]);
        a.align(8).bind(idtPointer).dw(0x46 * 8 - 1).dd(idt);
        a.align(16).db(new byte[4096]).bind(stack);
        a.align(16).db(new byte[4096]).bind(apStack);
        Path f = Files.createTempFile("lockstep-fixed-ipi", ".elf");
        f.toFile().deleteOnExit();
        new ImageBuilder().add(a).entry(entry).build().writeTo(f);
        return f;
    }
}
