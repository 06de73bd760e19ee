package dev.jkvm.vmm.api;

/** Assembler fragments shared by the test guests. */
final class GuestSnippets {
    private GuestSnippets() {}

    /**
     * Enters long mode the way PLATFORM.md requires — by the guest itself from 32-bit protected
     * mode (Intel SDM Vol. 3 §9.8.5): identity-map the first 4 MiB with 2 MiB pages (PML4 at
     * 0x10000, PDPT 0x11000, PD 0x12000), CR4.PAE, EFER.LME, CR0.PG, then a far jump to a 64-bit
     * code segment. Continues at label {@code long_mode} with DS/ES/SS loaded and RSP = 0x80000.
     */
    static final String ENTER_LONG_MODE = """
                cld
                mov $0x10000, %edi
                xor %eax, %eax
                mov $(3 * 4096 / 4), %ecx
                rep stosl
                movl $0x11003, 0x10000
                movl $0x12003, 0x11000
                movl $0x00000083, 0x12000
                movl $0x00200083, 0x12008
                mov $0x10000, %eax
                mov %eax, %cr3
                mov %cr4, %eax
                or $0x20, %eax
                mov %eax, %cr4
                mov $0xC0000080, %ecx
                rdmsr
                or $0x100, %eax
                wrmsr
                lgdt gdt_ptr
                mov %cr0, %eax
                or $0x80000000, %eax
                mov %eax, %cr0
                ljmp $0x08, $long_mode_entry
            .balign 8
            gdt:
                .quad 0
                .quad 0x00AF9A000000FFFF
                .quad 0x00CF92000000FFFF
            gdt_ptr:
                .word 23
                .long gdt
            .code64
            long_mode_entry:
                mov $0x10, %ax
                mov %ax, %ds
                mov %ax, %es
                mov %ax, %ss
                mov $0x80000, %rsp
                jmp long_mode
            """;

    /** Writes the low byte of {@code reg} to isa-debug-exit. */
    static String debugExit(String reg8) {
        return "    mov " + reg8 + ", %al\n    out %al, $0xf4\n";
    }
}
