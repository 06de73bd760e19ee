package dev.jkvm.klib.kernel.build;

import dev.jkvm.klib.arch.SegmentDescriptors;
import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
import dev.jkvm.klib.asm.CtrlReg;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.asm.SegReg;
import dev.jkvm.klib.image.LongModeSwitch;
import dev.jkvm.klib.image.LongModeSwitch.Value;
import dev.jkvm.klib.kernel.boot.TrampolineParameters;
import dev.jkvm.klib.kernel.smp.BootStage;

/**
 * The code an application processor runs after SIPI: real mode at TrampolineParameters.ADDRESS,
 * then 32-bit protected mode (own flat GDT), then long mode on the kernel's page tables, and a
 * jump to the kernel's AP entry with rdi = CPU index and rsp = the AP's stack, both found by the
 * AP's own APIC ID, so every AP can run it at the same time. Every step writes its BootStage to
 * the AP's own stage byte. It must not fault: before long mode there is no IDT,
 * and on a KVM that emulates ring 0 (the nested paravirtual kvm_pvm) an exception there ends the VM.
 */
final class ApTrampoline {
    private ApTrampoline() {
    }

    private static final int CODE32 = 0x08;
    private static final int DATA = 0x10;
    private static final int CODE64 = 0x18;

    /** The trampoline page's bytes as linked at ADDRESS (parameter block and stage bytes zero). */
    static byte[] build() {
        Assembler a = new Assembler(Mode.REAL16);
        Section s = a.section("trampoline", Section.Kind.CODE);
        long base = TrampolineParameters.ADDRESS;
        long stages = base + TrampolineParameters.STAGES;
        Label gdt = new Label();
        Label gdtPointer = new Label();
        Label protectedMode = new Label();
        Label longMode = new Label();
        Label haveId = new Label();
        Label haveSlot = new Label();
        Label unknown = new Label();

        a.cli();
        a.xor(AX, AX).mov(SegReg.DS, AX).mov(SegReg.ES, AX).mov(SegReg.SS, AX);
        // The AP's APIC ID in ESI: CPUID leaf 0xB EDX (the x2APIC ID) when the leaf exists and
        // reports a level (EBX != 0), else leaf 1 EBX[31:24] (Intel SDM Vol. 2A CPUID); as the
        // kernel reads the boot CPU's. All APs run this at once: nothing below uses a stack or
        // writes anything shared before long mode but the AP's own stage byte (EBP = its slot).
        a.xor(EAX, EAX).cpuid().mov(EDI, EAX);
        a.mov(EAX, 1).cpuid().shr(EBX, 24).mov(ESI, EBX);
        a.cmp(EDI, 0xB).jcc(Cond.B, haveId);
        a.mov(EAX, 0xB).xor(ECX, ECX).cpuid().test(EBX, EBX).jcc(Cond.E, haveId);
        a.mov(ESI, EDX);
        a.bind(haveId);
        a.mov(EBP, ESI);
        a.cmp(EBP, TrampolineParameters.STAGE_SLOTS - 1).jcc(Cond.BE, haveSlot);
        a.mov(EBP, TrampolineParameters.STAGE_SLOTS - 1);
        a.bind(haveSlot);
        a.mov(Mem.at(EBP, stages).m8(), BootStage.REAL);
        a.lgdt(Mem.abs(gdtPointer));
        a.mov(EAX, CtrlReg.CR0).or(EAX, LongModeSwitch.CR0_PE).mov(CtrlReg.CR0, EAX);
        a.jmpFar(CODE32, protectedMode, 32);

        a.setMode(Mode.PROTECTED32);
        a.bind(protectedMode);
        a.mov(AX, DATA).mov(SegReg.DS, AX).mov(SegReg.ES, AX).mov(SegReg.SS, AX);
        a.mov(Mem.at(EBP, stages).m8(), BootStage.PROTECTED);
        // The GDT is loaded already (real mode above). CR4 is 0 after INIT (SDM Vol. 3A Table
        // 10-1), so OR-ing the block's CR4 into it loads exactly that value; the BSP chose NXE.
        new LongModeSwitch(null,
                Value.at(Mem.abs(base + TrampolineParameters.CR4)),
                Value.at(Mem.abs(base + TrampolineParameters.CR3)),
                Value.at(Mem.abs(base + TrampolineParameters.EFER)),
                true, CODE64, longMode).emit(a);

        a.setMode(Mode.LONG64);
        a.bind(longMode);
        a.mov(AX, DATA).mov(SegReg.DS, AX).mov(SegReg.ES, AX).mov(SegReg.SS, AX);
        // The upper halves of the 64-bit registers are undefined after the switch from 32-bit
        // code (SDM Vol. 1 3.4.1.1): 32-bit moves to themselves zero them.
        a.mov(EBP, EBP).mov(ESI, ESI);
        a.mov(Mem.at(RBP, stages).m8(), BootStage.LONG);
        a.cmp(ESI, Mem.abs(base + TrampolineParameters.APIC_LIMIT)).jcc(Cond.AE, unknown);
        a.mov(RAX, Mem.abs(base + TrampolineParameters.APIC_TABLE));
        a.mov(EDI, Mem.at(RAX).index(RSI, 4)).test(EDI, EDI).jcc(Cond.E, unknown);
        a.dec(EDI);
        a.mov(RAX, Mem.abs(base + TrampolineParameters.STACK_TABLE));
        a.mov(RSP, Mem.at(RAX).index(RDI, 8));
        a.mov(RAX, Mem.abs(base + TrampolineParameters.ENTRY));
        // From here on the AP no longer reads the page: once every AP got this far it may go.
        a.mov(Mem.at(RBP, stages).m8(), BootStage.STACK);
        a.xor(EBP, EBP);
        a.jmp(RAX);
        // An APIC ID the kernel's table does not list: stays in LONG, halted, and is reported.
        a.bind(unknown).cli().hlt().jmp(unknown);

        a.align(8).bind(gdt);
        a.dq(0, SegmentDescriptors.KERNEL_CODE32, SegmentDescriptors.KERNEL_DATA, SegmentDescriptors.KERNEL_CODE64);
        a.bind(gdtPointer).dw(4 * 8 - 1).dd(gdt);

        int codeSize = (int) s.size();
        if (codeSize > TrampolineParameters.STAGES) {
            throw new IllegalStateException("AP trampoline code (" + codeSize + " bytes) overlaps its stage bytes");
        }
        a.db(new byte[TrampolineParameters.BLOCK_END - codeSize]);
        return s.linkAt(base);
    }
}
