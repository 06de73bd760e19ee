/*
 * The guest of the exit round-trip benchmark, shared by the C floor (exit_floor.c) and the
 * Java VMM so that both run the identical instructions.
 *
 * A multiboot v1 kernel using the a.out kludge (Multiboot 0.6.96 §3.1.3, flag bit 16): the file
 * is loaded flat at 1 MiB, so the C floor needs no ELF parser. It enters long mode by itself
 * (PLATFORM.md: never via KVM_SET_SREGS), drops to ring 3 with IOPL=3 (ring-3 code runs natively
 * on the nested KVM, ring 0 is emulated), writes port 0x80 ITERATIONS times — one VM exit each —
 * then port 0x81 to stop the host's clock, and finally writes 0 to isa-debug-exit at 0xF4.
 */
#ifndef ITERATIONS
#define ITERATIONS 200000
#endif
        .set MB_MAGIC, 0x1BADB002
        .set MB_FLAGS, 0x00010000
        .set EXIT_PORT, 0xF4
        .set BENCH_PORT, 0x80
        .set END_PORT, 0x81

        .text
        .code32
        .globl _start
mb_header:
        .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
        .long mb_header, mb_header, load_end, bss_end, _start

_start:
        cli
        /* Identity-map the first 4 MiB with 2 MiB pages, user-accessible (P|RW|US [|PS]). */
        movl $pdpt + 7, pml4
        movl $pd + 7, pdpt
        movl $0x000087, pd
        movl $0x200087, pd + 8
        movl $pml4, %eax
        movl %eax, %cr3
        movl %cr4, %eax
        orl $0x20, %eax                 /* CR4.PAE */
        movl %eax, %cr4
        movl $0xC0000080, %ecx          /* IA32_EFER */
        rdmsr
        orl $0x100, %eax                /* EFER.LME */
        wrmsr
        movl %cr0, %eax
        orl $0x80000001, %eax           /* CR0.PG | CR0.PE */
        movl %eax, %cr0
        lgdt gdt_descriptor
        ljmp $0x08, $long_mode

        .code64
long_mode:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movq $kernel_stack_top, %rsp
        /* iretq frame: SS, RSP, RFLAGS (IOPL=3, reserved bit 1), CS, RIP (Intel SDM Vol. 3 §6.14.3). */
        pushq $0x1B
        pushq $user_stack_top
        pushq $0x3002
        pushq $0x23
        pushq $user_loop
        iretq

user_loop:
        movl $ITERATIONS, %ecx
        movw $BENCH_PORT, %dx
1:      outb %al, %dx
        decl %ecx
        jnz 1b
        movw $END_PORT, %dx
        outb %al, %dx
        movw $EXIT_PORT, %dx
        xorl %eax, %eax
        outb %al, %dx
2:      jmp 2b

        .balign 8
gdt:
        .quad 0                         /* null */
        .quad 0x00AF9A000000FFFF        /* 0x08: 64-bit code, DPL 0 */
        .quad 0x00CF92000000FFFF        /* 0x10: data, DPL 0 */
        .quad 0x00CFF2000000FFFF        /* 0x18: data, DPL 3 */
        .quad 0x00AFFA000000FFFF        /* 0x20: 64-bit code, DPL 3 */
gdt_end:
gdt_descriptor:
        .word gdt_end - gdt - 1
        .long gdt
load_end:

        .bss
        .balign 4096
pml4:   .skip 4096
pdpt:   .skip 4096
pd:     .skip 4096
        .skip 4096
kernel_stack_top:
        .skip 4096
user_stack_top:
bss_end:
