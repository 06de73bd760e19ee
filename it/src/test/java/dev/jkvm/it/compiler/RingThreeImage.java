package dev.jkvm.it.compiler;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.image.SerialConsole;
import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.SegReg;
import dev.jkvm.klib.asm.CtrlReg;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.compiler.CompiledUnit;
import dev.jkvm.klib.compiler.JavaSubsetCompiler;
import dev.jkvm.klib.image.ImageBuilder;
import dev.jkvm.klib.image.KernelImage;

/**
 * A multiboot image that runs one compiled Java-subset method in ring 3: the 32-bit entry maps
 * the first GiB user-accessible, enters long mode, and drops to ring 3 with IOPL 3 (so the
 * compiled Console and debug-exit port I/O work there) through iretq (Intel SDM Vol. 3A §6.14.3).
 * On a KVM that emulates ring 0 (the nested paravirtual kvm_pvm, PLATFORM.md) ring 3 still runs
 * natively: this is where compiled code runs at full speed there.
 */
final class RingThreeImage {
    /** GDT: null, ring-0 code and data, ring-3 data and code (selectors with RPL 3). */
    private static final int KERNEL_CODE = 0x08;
    private static final int KERNEL_DATA = 0x10;
    private static final int USER_DATA = 0x18 | 3;
    private static final int USER_CODE = 0x20 | 3;
    /** RFLAGS: reserved bit 1, IOPL = 3, interrupts off. */
    private static final int USER_RFLAGS = 0x3002;
    /** Page-table entry bits: present, writable, user; PS marks a 2 MiB page (SDM Vol. 3A §4.5). */
    private static final int PRESENT_WRITABLE_USER = 0x7;
    private static final int PAGE_SIZE_2M = 0x80;

    private RingThreeImage() {
    }

    static KernelImage build(Class<?> owner, String method) {
        CompiledUnit unit = new JavaSubsetCompiler(RingThreeImage.class.getClassLoader())
                .addMethod(owner.getName(), method).compile();
        Assembler a = unit.assembler();
        Label target = unit.method(owner.getName(), method, "()V");

        Label gdt = new Label("ring3_gdt");
        Label gdtPointer = new Label("ring3_gdt_pointer");
        a.section("rodata", Section.Kind.RODATA);
        a.align(8).bind(gdt).dq(0, 0x00AF9A000000FFFFL, 0x00CF92000000FFFFL, 0x00CFF2000000FFFFL, 0x00AFFA000000FFFFL);
        a.bind(gdtPointer).dw(5 * 8 - 1).dd(gdt);

        Label pml4 = new Label("ring3_pml4");
        Label pdpt = new Label();
        Label pd = new Label();
        a.section("data", Section.Kind.DATA);
        a.align(4096).bind(pml4).dq(pdpt, PRESENT_WRITABLE_USER).db(new byte[4096 - 8]);
        a.bind(pdpt).dq(pd, PRESENT_WRITABLE_USER).db(new byte[4096 - 8]);
        a.bind(pd);
        for (long i = 0; i < 512; i++) a.dq(i << 21 | PAGE_SIZE_2M | PRESENT_WRITABLE_USER);

        Label kernelStack = new Label("ring3_kernel_stack_top");
        Label userStack = new Label("ring3_user_stack_top");
        a.section("bss", Section.Kind.BSS);
        a.align(16).reserve(16 * 1024).bind(kernelStack);
        a.align(16).reserve(256 * 1024).bind(userStack);

        a.section("text", Section.Kind.CODE);
        a.setMode(Mode.PROTECTED32);
        Label entry = new Label("ring3_multiboot_entry");
        Label longMode = new Label("ring3_long_mode");
        a.bind(entry).cli();
        a.mov(EAX, pml4).mov(CtrlReg.CR3, EAX);
        a.mov(EAX, CtrlReg.CR4).or(EAX, 1 << 5).mov(CtrlReg.CR4, EAX);          // PAE
        a.mov(ECX, 0xC0000080L).rdmsr().or(EAX, 1 << 8).wrmsr();                 // EFER.LME
        a.mov(EAX, CtrlReg.CR0).bts(EAX, 31).or(EAX, 1).mov(CtrlReg.CR0, EAX);   // PG | PE
        a.lgdt(Mem.abs(gdtPointer));
        a.jmpFar(KERNEL_CODE, longMode, 32);

        a.setMode(Mode.LONG64);
        Label userEntry = new Label("ring3_user_entry");
        Label hang = new Label();
        a.bind(longMode).mov(AX, KERNEL_DATA).mov(SegReg.DS, AX).mov(SegReg.ES, AX).mov(SegReg.SS, AX);
        a.mov(RSP, kernelStack);
        a.push(USER_DATA).mov(RAX, userStack).push(RAX).push(USER_RFLAGS).push(USER_CODE);
        a.mov(RAX, userEntry).push(RAX).iretq();
        a.bind(userEntry).xor(EBP, EBP).call(target);
        a.mov(DX, SerialConsole.DEBUG_EXIT_PORT).xor(EAX, EAX).out(DX, EAX);
        a.bind(hang).jmp(hang);

        SerialConsole.defineExternals(a, unit.externals(), "the ring-3 image");
        return new ImageBuilder().add(a).entry(entry).build();
    }
}
