package dev.jkvm.klib.kernel.build;

import dev.jkvm.klib.arch.SegmentDescriptors;
import dev.jkvm.klib.arch.Com1;
import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.asm.SegReg;
import dev.jkvm.klib.image.LongModeSwitch;
import dev.jkvm.klib.kernel.cpu.PerCpuArea;

/**
 * The boot CPU's path from the multiboot state (Multiboot 0.6.96 §3.2: 32-bit protected mode,
 * paging off, EAX = 0x2BADB002, EBX = info) to the compiled kernel main: checks that the CPU has
 * long mode, enables it on a static identity map of the first GiB (LongModeSwitch, Intel SDM
 * Vol. 3A §10.8.5),
 * copies the per-CPU template into the boot CPU's area, points GS at it and calls main(info).
 * Nothing here may fault: there is no IDT yet, and a KVM that emulates ring 0 (the nested
 * paravirtual kvm_pvm) ends the VM on any exception before long mode.
 */
final class BootEntry {
    private BootEntry() {
    }

    static final int CODE64 = 0x08;
    static final int DATA = 0x10;
    private static final long MULTIBOOT_MAGIC = 0x2BADB002L;
    private static final int PRESENT_WRITABLE = 0x3;
    private static final int PAGE_SIZE_2M = 0x80;
    private static final int LONG_MODE_BIT = 1 << 29;
    static final int STACK_BYTES = 64 * 1024;
    private static final int DEBUG_EXIT = 0xF4;
    /** isa-debug-exit value when the CPU cannot run the kernel at all (status 0x7D*2+1 = 251). */
    static final int NO_LONG_MODE_EXIT = 0x7D;

    record Labels(Label entry, Label multibootInfo, Label bspPerCpu, Label stackGuard, Label stackTop) {
    }

    static Labels emit(Assembler a, Label kernelMain, Label perCpuTemplate, int perCpuBytes) {
        Label gdt = new Label("kboot_gdt");
        Label gdtPointer = new Label("kboot_gdt_pointer");
        Label pml4 = new Label("kboot_pml4");
        Label pdpt = new Label("kboot_pdpt");
        Label pd = new Label("kboot_pd");
        Label stackGuard = new Label("kboot_stack_guard");
        Label stackTop = new Label("kboot_stack_top");
        Label bspPerCpu = new Label("kboot_bsp_percpu");
        Label info = new Label("kboot_multiboot_info");
        Label noLongMode = new Label("kboot_no_long_mode");
        Label message = new Label();

        a.section("rodata", Section.Kind.RODATA);
        a.align(8).bind(gdt).dq(0, SegmentDescriptors.KERNEL_CODE64, SegmentDescriptors.KERNEL_DATA);
        a.bind(gdtPointer).dw(3 * 8 - 1).dd(gdt);
        a.bind(message).asciz("jkvm: this CPU has no long mode (CPUID 0x80000001 EDX bit 29): the kernel needs x86-64\n");

        // Built at image build time, so the 32-bit code only loads CR3.
        a.section("data", Section.Kind.DATA);
        a.align(4096).bind(pml4).dq(pdpt, PRESENT_WRITABLE).db(new byte[4096 - 8]);
        a.bind(pdpt).dq(pd, PRESENT_WRITABLE).db(new byte[4096 - 8]);
        a.bind(pd);
        for (long i = 0; i < 512; i++) {
            a.dq(i << 21 | PAGE_SIZE_2M | PRESENT_WRITABLE);
        }
        a.align(8).bind(info).dq(0);

        // The guard page stays unmapped once the kernel's own page tables are live.
        a.section("bss", Section.Kind.BSS);
        a.align(4096).bind(stackGuard).reserve(4096).reserve(STACK_BYTES).bind(stackTop);
        // The template's copy, then the dynamic region (PerCpuVariables) that CpuResources zeroes.
        a.align(64).bind(bspPerCpu).reserve(perCpuBytes + PerCpuArea.DYNAMIC_BYTES);

        a.section("text", Section.Kind.CODE);
        a.setMode(Mode.PROTECTED32);
        Label entry = a.label("multiboot_entry");
        Label haveInfo = new Label();
        a.cli();
        a.mov(ESP, stackTop);
        a.cmp(EAX, MULTIBOOT_MAGIC).jcc(Cond.NE, haveInfo);
        a.mov(Mem.abs(info).m32(), EBX);
        a.bind(haveInfo);
        // CPUID leaf 0x80000001 exists on every x86-64 CPU; the check only reads registers.
        a.mov(EAX, 0x80000000L).cpuid().cmp(EAX, 0x80000001L).jcc(Cond.B, noLongMode);
        a.mov(EAX, 0x80000001L).cpuid().test(EDX, LONG_MODE_BIT).jcc(Cond.E, noLongMode);
        Label longMode = new Label("kboot_long_mode");
        LongModeSwitch.boot(gdtPointer, pml4, CODE64, longMode).emit(a);

        a.bind(noLongMode);
        Label next = new Label();
        Label done = new Label();
        a.mov(ESI, message);
        a.bind(next).mov(AL, Mem.at(ESI).m8()).test(AL, AL).jcc(Cond.E, done);
        a.mov(DX, Com1.PORT).out(DX, AL).inc(ESI).jmp(next);
        a.bind(done).mov(DX, DEBUG_EXIT).mov(EAX, NO_LONG_MODE_EXIT).out(DX, EAX);
        Label stop = new Label();
        a.bind(stop).hlt().jmp(stop);

        a.setMode(Mode.LONG64);
        a.bind(longMode);
        // GS is loaded before its base is written: a selector load resets the base.
        a.mov(AX, DATA).mov(SegReg.DS, AX).mov(SegReg.ES, AX).mov(SegReg.SS, AX)
                .mov(SegReg.FS, AX).mov(SegReg.GS, AX);
        a.mov(RSP, stackTop);
        a.lea(RSI, Mem.rip(perCpuTemplate)).lea(RDI, Mem.rip(bspPerCpu)).mov(ECX, perCpuBytes);
        a.db(0xFC).rep().movsb(); // CLD; REP MOVSB
        a.lea(RAX, Mem.rip(bspPerCpu)).mov(RDX, RAX).shr(RDX, 32).mov(ECX, 0xC0000101L).wrmsr();
        a.xor(EBP, EBP);
        a.mov(RDI, Mem.rip(info));
        a.call(kernelMain);
        Label park = new Label("kboot_park");
        a.bind(park).cli().hlt().jmp(park);
        return new Labels(entry, info, bspPerCpu, stackGuard, stackTop);
    }
}
