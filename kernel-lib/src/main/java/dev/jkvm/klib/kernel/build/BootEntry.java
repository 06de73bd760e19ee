package dev.jkvm.klib.kernel.build;

import dev.jkvm.klib.arch.Com1;
import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.asm.SegReg;
import dev.jkvm.klib.image.BootTables;
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

    static final int CODE64 = BootTables.CODE64_SELECTOR;
    static final int DATA = BootTables.DATA_SELECTOR;
    private static final long MULTIBOOT_MAGIC = 0x2BADB002L;
    private static final int LONG_MODE_BIT = 1 << 29;
    static final int STACK_BYTES = 64 * 1024;
    private static final int DEBUG_EXIT = 0xF4;
    /** isa-debug-exit value when the CPU cannot run the kernel at all (status 0x7D*2+1 = 251). */
    static final int NO_LONG_MODE_EXIT = 0x7D;

    record Labels(Label entry, Label multibootInfo, Label bspPerCpu, Label stackGuard, Label stackTop) {
    }

    static Labels emit(Assembler a, Label kernelMain, Label perCpuTemplate, int perCpuBytes) {
        Label stackGuard = new Label("kboot_stack_guard");
        Label stackTop = new Label("kboot_stack_top");
        Label bspPerCpu = new Label("kboot_bsp_percpu");
        Label info = new Label("kboot_multiboot_info");
        Label noLongMode = new Label("kboot_no_long_mode");
        Label message = new Label();

        // The GDT and identity map first, then this entry's own rodata and data after them.
        BootTables tables = BootTables.emit(a, "kboot");
        a.section("rodata", Section.Kind.RODATA);
        a.bind(message).asciz("jkvm: this CPU has no long mode (CPUID 0x80000001 EDX bit 29): the kernel needs x86-64\n");
        a.section("data", Section.Kind.DATA);
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
        tables.longModeSwitch(longMode).emit(a);

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
