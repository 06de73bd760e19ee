/*
 * 32-bit multiboot kernel: checks the boot loader magic, prints a greeting and the memory map's
 * presence over COM1, exits through isa-debug-exit with 0x21 (process status 0x43).
 */
#include "multiboot.inc"
        .text
        .code32
        .globl _start
_start:
        cli
        movl $stack_top, %esp
        movl %eax, saved_magic
        movl %ebx, saved_info
        call serial_init
        movl $greeting, %esi
        call puts
        cmpl $0x2BADB002, saved_magic
        jne bad_magic
        movl $magic_ok, %esi
        call puts
        movl saved_info, %ebx
        testl $0x40, (%ebx)              /* flags bit 6: mmap_* valid */
        jz 1f
        movl $mmap_ok, %esi
        call puts
1:      movl $bye, %esi
        call puts
        movw $DEBUG_EXIT, %dx
        movl $0x21, %eax
        outl %eax, %dx
halt:   hlt
        jmp halt
bad_magic:
        movl $magic_bad, %esi
        call puts
        movw $DEBUG_EXIT, %dx
        movl $0x7E, %eax
        outl %eax, %dx
        jmp halt

#include "serial.inc"

        .section .rodata
greeting:  .asciz "hello from a 32-bit multiboot kernel\n"
magic_ok:  .asciz "boot loader magic ok\n"
magic_bad: .asciz "boot loader magic WRONG\n"
mmap_ok:   .asciz "memory map present\n"
bye:       .asciz "bye\n"

        .bss
        .balign 16
saved_magic: .long 0
saved_info:  .long 0
        .skip 4096
stack_top:
