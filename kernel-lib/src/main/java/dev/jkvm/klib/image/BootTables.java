package dev.jkvm.klib.image;

import dev.jkvm.klib.arch.SegmentDescriptors;
import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Section;

/**
 * The tables a 32-bit multiboot entry hands to {@link LongModeSwitch}: a flat GDT (null, 64-bit
 * code at CODE64_SELECTOR, data at DATA_SELECTOR) in rodata, and page tables that identity-map
 * the first GiB with 2 MiB pages in data, built at image build time so the 32-bit code only
 * loads CR3. Shared by the kernel's BootEntry and LongModeBoot.
 *
 * @param gdtPointer the 6-byte LGDT operand
 * @param pml4       the PML4, for CR3
 */
public record BootTables(Label gdtPointer, Label pml4) {
    /** GDT selectors: entry 1 is 64-bit code, entry 2 flat data. */
    public static final int CODE64_SELECTOR = 0x08;
    public static final int DATA_SELECTOR = 0x10;
    /** Page-table entry bits: present, writable; PS marks a 2 MiB page in a PD entry (SDM Vol. 3A §4.5). */
    private static final int PRESENT_WRITABLE = 0x3;
    private static final int PAGE_SIZE_2M = 0x80;

    /**
     * Appends the GDT to {@code a}'s "rodata" section and the page tables to its "data" section;
     * {@code prefix} starts the tables' symbol names. Leaves "data" the current section.
     */
    public static BootTables emit(Assembler a, String prefix) {
        Label gdt = new Label(prefix + "_gdt");
        Label gdtPointer = new Label(prefix + "_gdt_pointer");
        Label pml4 = new Label(prefix + "_pml4");
        Label pdpt = new Label(prefix + "_pdpt");
        Label pd = new Label(prefix + "_pd");

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
        return new BootTables(gdtPointer, pml4);
    }

    /** The switch into long mode on these tables, far-jumping to {@code target}. */
    public LongModeSwitch longModeSwitch(Label target) {
        return LongModeSwitch.boot(gdtPointer, pml4, CODE64_SELECTOR, target);
    }
}
