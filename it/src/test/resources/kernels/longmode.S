/*
 * Enters long mode by itself (PAE, EFER.LME, CR0.PG; Intel SDM Vol. 3 §9.8.5), installs an IDT
 * and executes ud2; the #UD handler prints the vector and the faulting RIP taken from its
 * interrupt frame, then exits through isa-debug-exit with 3 (process status 7).
 */
#include "multiboot.inc"
#include "longmode.inc"
        .text
        .code32
        .globl _start
_start:
        cli
        movl $stack_top, %esp
        ENTER_LONG_MODE long_mode

        .code64
long_mode:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movq $stack_top, %rsp
        call serial_init
        /* IDT entry 6 (#UD): 64-bit interrupt gate (Intel SDM Vol. 3 §6.14.1). */
        movq $ud_handler, %rax
        movw %ax, idt + 6 * 16
        movw $0x08, idt + 6 * 16 + 2
        movw $0x8E00, idt + 6 * 16 + 4
        shrq $16, %rax
        movw %ax, idt + 6 * 16 + 6
        shrq $16, %rax
        movl %eax, idt + 6 * 16 + 8
        lidt idt_descriptor
        movl $in_long_mode, %esi
        call puts
faulting_instruction:
        ud2
        jmp hang

ud_handler:
        movl $caught, %esi
        call puts
        movl (%rsp), %ecx                /* RIP pushed by the CPU */
        call serial_hex32
        movb $'\n', %bl
        call serial_putc
        movl $faulting_instruction, %eax
        cmpl (%rsp), %eax
        jne hang
        movw $DEBUG_EXIT, %dx
        movl $3, %eax
        outl %eax, %dx
hang:   hlt
        jmp hang

#include "serial.inc"
        LONG_MODE_DATA

        .section .rodata
        .balign 8
idt_descriptor:
        .word 256 * 16 - 1
        .quad idt
in_long_mode: .asciz "in long mode\n"
caught:       .asciz "caught #UD at rip=0x"

        .bss
        .balign 4096
idt:    .skip 4096
        .skip 4096
stack_top:
