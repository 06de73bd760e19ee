/*
 * Triple-faults on purpose: loads an empty IDT, drops to ring 3 and executes int3 there, so
 * neither the #BP nor the #GP and #DF that follow can be delivered (Intel SDM Vol. 3 §6.15,
 * interrupt 8). The fault is raised in ring 3 because on a KVM that emulates ring-0 code (the
 * nested paravirtual kvm_pvm) a fault cascade inside the emulator ends as an emulation error
 * rather than a shutdown (measured; see PLATFORM.md). The VMM must report the shutdown with registers and the
 * bytes at RIP; QEMU with -no-reboot just stops.
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
        /* iretq frame: SS, RSP, RFLAGS, CS, RIP (Intel SDM Vol. 3 §6.14.3). */
        pushq $0x1B
        pushq $user_stack_top
        pushq $0x2
        pushq $0x23
        pushq $doomed
        iretq

        .globl doomed
doomed: movl $0xC0FFEE, %eax
        int3
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
        .skip 4096
user_stack_top:
