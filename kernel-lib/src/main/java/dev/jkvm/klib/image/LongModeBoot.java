package dev.jkvm.klib.image;

import dev.jkvm.klib.arch.SegmentDescriptors;
import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.asm.SegReg;

/**
 * The 32-bit multiboot entry of the hello example (and vmm's lockstep kernels) that switches the
 * CPU into 64-bit long mode by itself: a flat GDT with a 64-bit code segment, an identity-mapped
 * first GiB with 2 MiB pages and a stack, then {@link LongModeSwitch} (Intel SDM Vol. 3A §10.8.5).
 */
public final class LongModeBoot {
    /** GDT selectors: entry 1 is 64-bit code, entry 2 flat data. */
    public static final int CODE64_SELECTOR = 0x08;
    public static final int DATA_SELECTOR = 0x10;
    /** Page-table entry bits: present, writable; PS marks a 2 MiB page in a PD entry (SDM Vol. 3A §4.5). */
    private static final int PRESENT_WRITABLE = 0x3;
    private static final int PAGE_SIZE_2M = 0x80;
    private static final int STACK_BYTES = 16 * 1024;

    private LongModeBoot() {
    }

    /**
     * Emits the bootstrap into {@code a}'s text section (32-bit code) plus its GDT, page tables
     * and stack; jumps to {@code longModeEntry} in 64-bit mode with segments loaded and RSP set.
     * Leaves {@code a} in 64-bit mode. Returns the 32-bit entry label ("multiboot_entry").
     */
    public static Label emit(Assembler a, Label longModeEntry) {
        Label gdt = new Label("boot_gdt");
        Label gdtPointer = new Label("boot_gdt_pointer");
        Label pml4 = new Label("boot_pml4");
        Label pdpt = new Label("boot_pdpt");
        Label pd = new Label("boot_pd");
        Label stackTop = new Label("boot_stack_top");

        a.section("rodata", Section.Kind.RODATA);
        a.align(8).bind(gdt).dq(0, SegmentDescriptors.KERNEL_CODE64, SegmentDescriptors.KERNEL_DATA);
        a.bind(gdtPointer).dw(3 * 8 - 1).dd(gdt);

        a.section("data", Section.Kind.DATA);
        a.align(4096).bind(pml4).dq(pdpt, PRESENT_WRITABLE).db(new byte[4096 - 8]);
        a.bind(pdpt).dq(pd, PRESENT_WRITABLE).db(new byte[4096 - 8]);
        a.bind(pd);
        for (long i = 0; i < 512; i++) {
            a.dq(i << 21 | PAGE_SIZE_2M | PRESENT_WRITABLE);
        }

        a.section("bss", Section.Kind.BSS);
        a.align(16).reserve(STACK_BYTES).bind(stackTop);

        a.section("text", Section.Kind.CODE);
        a.setMode(Mode.PROTECTED32);
        Label entry = a.label("multiboot_entry");
        a.cli();
        a.mov(ESP, stackTop);
        Label reload = new Label("boot_long_mode");
        LongModeSwitch.boot(gdtPointer, pml4, CODE64_SELECTOR, reload).emit(a);

        a.setMode(Mode.LONG64);
        a.bind(reload);
        a.mov(AX, DATA_SELECTOR).mov(SegReg.DS, AX).mov(SegReg.ES, AX).mov(SegReg.SS, AX);
        a.mov(RSP, stackTop);
        a.jmp(longModeEntry);
        return entry;
    }
}
