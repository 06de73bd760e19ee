package dev.jkvm.klib.kernel.build;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.CtrlReg;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.asm.SegReg;
import dev.jkvm.klib.kernel.boot.TrampolineParameters;
import dev.jkvm.klib.kernel.smp.BootStage;

/**
 * The code an application processor runs after SIPI: real mode at TrampolineParameters.ADDRESS,
 * then 32-bit protected mode (own flat GDT), then long mode on the kernel's page tables, and a
 * jump to the kernel's AP entry with rdi = CPU index and rsp = the AP's stack. Every step writes
 * its BootStage to the parameter block. It must not fault: before long mode there is no IDT,
 * and on this host an exception there ends the VM.
 */
final class ApTrampoline {
    private ApTrampoline() {
    }

    private static final int CODE32 = 0x08;
    private static final int DATA = 0x10;
    private static final int CODE64 = 0x18;
    private static final long CR0_PE = 1;
    private static final long CR0_PG_WP_PE = 0x80010001L;
    private static final int IA32_EFER = 0xC0000080;

    /** The trampoline page's bytes as linked at ADDRESS (parameter block zero). */
    static byte[] build() {
        Assembler a = new Assembler(Mode.REAL16);
        Section s = a.section("trampoline", Section.Kind.CODE);
        long base = TrampolineParameters.ADDRESS;
        Mem stage = Mem.abs(base + TrampolineParameters.STAGE).m32();
        Label gdt = new Label();
        Label gdtPointer = new Label();
        Label protectedMode = new Label();
        Label longMode = new Label();

        a.cli();
        a.xor(AX, AX).mov(SegReg.DS, AX).mov(SegReg.ES, AX).mov(SegReg.SS, AX);
        a.mov(stage, BootStage.REAL);
        a.lgdt(Mem.abs(gdtPointer));
        a.mov(EAX, CtrlReg.CR0).or(EAX, CR0_PE).mov(CtrlReg.CR0, EAX);
        a.jmpFar(CODE32, protectedMode, 32);

        a.setMode(Mode.PROTECTED32);
        a.bind(protectedMode);
        a.mov(AX, DATA).mov(SegReg.DS, AX).mov(SegReg.ES, AX).mov(SegReg.SS, AX);
        a.mov(stage, BootStage.PROTECTED);
        a.mov(EAX, Mem.abs(base + TrampolineParameters.CR4)).mov(CtrlReg.CR4, EAX);
        a.mov(EAX, Mem.abs(base + TrampolineParameters.CR3)).mov(CtrlReg.CR3, EAX);
        a.mov(ECX, IA32_EFER).rdmsr().or(EAX, Mem.abs(base + TrampolineParameters.EFER)).wrmsr();
        a.mov(EAX, CtrlReg.CR0).or(EAX, (int) CR0_PG_WP_PE).mov(CtrlReg.CR0, EAX);
        a.jmpFar(CODE64, longMode, 32);

        a.setMode(Mode.LONG64);
        a.bind(longMode);
        a.mov(AX, DATA).mov(SegReg.DS, AX).mov(SegReg.ES, AX).mov(SegReg.SS, AX);
        a.mov(stage, BootStage.LONG);
        a.mov(RSP, Mem.abs(base + TrampolineParameters.STACK_TOP));
        a.mov(EDI, Mem.abs(base + TrampolineParameters.CPU_INDEX));
        a.mov(RAX, Mem.abs(base + TrampolineParameters.ENTRY));
        // From here on the AP no longer reads the block: the BSP may prepare the next AP.
        a.mov(stage, BootStage.STACK);
        a.xor(EBP, EBP);
        a.jmp(RAX);

        a.align(8).bind(gdt);
        a.dq(0, 0x00CF9A000000FFFFL, 0x00CF92000000FFFFL, 0x00AF9A000000FFFFL);
        a.bind(gdtPointer).dw(4 * 8 - 1).dd(gdt);

        int codeSize = (int) s.size();
        if (codeSize > TrampolineParameters.BLOCK) {
            throw new IllegalStateException("AP trampoline code (" + codeSize + " bytes) overlaps its parameter block");
        }
        a.db(new byte[TrampolineParameters.BLOCK_END - codeSize]);
        return s.linkAt(base);
    }
}
