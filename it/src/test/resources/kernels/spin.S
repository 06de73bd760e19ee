/* Prints one line and spins forever with interrupts off: only a wall-clock timeout ends it. */
#include "multiboot.inc"
        .text
        .code32
        .globl _start
_start:
        cli
        movl $stack_top, %esp
        call serial_init
        movb $'S', %bl
        call serial_putc
        movb $'\n', %bl
        call serial_putc
forever:
        jmp forever

#include "serial.inc"
        .bss
        .skip 4096
stack_top:
