/* Counts forever in `counter` (32-bit protected mode): a guest whose progress the host can watch. */
#include "multiboot.inc"
        .text
        .code32
        .globl _start
_start:
        cli
1:      incl counter
        jmp 1b

        .bss
        .balign 4
        .globl counter
counter: .long 0
