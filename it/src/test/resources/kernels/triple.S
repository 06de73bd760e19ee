/*
 * Triple-faults on purpose: loads an empty IDT and executes int3, so the #BP cannot be delivered,
 * nor the #GP/#DF that follow (Intel SDM Vol. 3 §6.15, interrupt 8). The VMM must report the
 * shutdown with the registers and the bytes at RIP; QEMU with -no-reboot just stops.
 */
#include "multiboot.inc"
        .text
        .code32
        .globl _start
_start:
        cli
        movl $stack_top, %esp
        call serial_init
        movb $'T', %bl
        call serial_putc
        movb $'\n', %bl
        call serial_putc
        lidt empty_idt
        movl $0xC0FFEE, %eax
doomed: int3
        jmp doomed

#include "serial.inc"

        .section .rodata
empty_idt:
        .word 0
        .long 0
        .bss
        .skip 4096
stack_top:
