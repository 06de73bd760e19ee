/*
 * Triple-faults on purpose, from long mode: loads an empty IDT and executes int3, so neither the
 * #BP nor the #GP and #DF that follow can be delivered (Intel SDM Vol. 3 §6.15, interrupt 8).
 * Long mode first because on the nested KVM here an exception in 32-bit protected mode ends in
 * an emulation error instead (PLATFORM.md). The VMM must report the shutdown with registers and
 * the bytes at RIP; QEMU with -no-reboot just stops.
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
        movq $stack_top, %rsp
        call serial_init
        movb $'T', %bl
        call serial_putc
        movb $'\n', %bl
        call serial_putc
        lidt empty_idt
        movl $0xC0FFEE, %eax
        .globl doomed
doomed: int3
        jmp doomed

#include "serial.inc"
        LONG_MODE_DATA

        .section .rodata
empty_idt:
        .word 0
        .quad 0
        .bss
        .skip 4096
stack_top:
