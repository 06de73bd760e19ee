/*
 * MIPS loop kernel for scripts/bench/emulated: enters long mode, prints "mips: ring0 begin", runs
 * ITERS iterations of a six-instruction loop (load, add, store, inc, dec, jnz: register ALU,
 * memory through the page tables and a taken branch), prints "mips: ring0 end", drops to ring 3
 * with IRETQ (RFLAGS.IOPL = 3 so that ring 3 may drive COM1 and isa-debug-exit itself, Intel SDM
 * Vol. 1 §18.3.1) and does the same there, then exits through isa-debug-exit with 0 (process
 * status 1). The host times the serial lines; instructions = 6 * ITERS per ring (plus the few
 * loop set-up instructions, under 0.001 %).
 * Build: scripts/lib.sh's build_test_kernel (test-support's GnuToolchain: gcc -c -DITERS=N -I the
 * test kernels' directory, ld, objcopy to ELF32).
 */
#include "multiboot.inc"
#include "longmode.inc"
#ifndef ITERS
#define ITERS 10000000
#endif
        .text
        .code32
        .globl _start
_start:
        cli
        movl $stack_top, %esp
        ENTER_LONG_MODE long_mode

        .code64
.macro MIPS_LOOP
        movq $ITERS, %rcx
        movq $cell, %rsi
        xorl %ebx, %ebx
1:      movq (%rsi), %rax
        addq %rax, %rbx
        movq %rbx, 8(%rsi)
        incq %rax
        decq %rcx
        jnz 1b
.endm

long_mode:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movq $stack_top, %rsp
        call serial_init
        movl $ring0_begin, %esi
        call puts
        MIPS_LOOP
        movl $ring0_end, %esi
        call puts
        /* IRETQ frame to CPL 3 (SDM Vol. 3 §6.14.3): SS, RSP, RFLAGS, CS, RIP. */
        pushq $0x1B                      /* data, DPL 3, RPL 3 */
        pushq $user_stack_top
        pushq $0x3002                    /* IOPL 3, IF 0 */
        pushq $0x23                      /* 64-bit code, DPL 3, RPL 3 */
        pushq $ring3
        iretq

ring3:
        movl $ring3_begin, %esi
        call puts
        MIPS_LOOP
        movl $ring3_end, %esi
        call puts
        movw $DEBUG_EXIT, %dx
        xorl %eax, %eax
        outl %eax, %dx
hang:   jmp hang

#include "serial.inc"
        LONG_MODE_DATA

        .section .rodata
ring0_begin: .asciz "mips: ring0 begin\n"
ring0_end:   .asciz "mips: ring0 end\n"
ring3_begin: .asciz "mips: ring3 begin\n"
ring3_end:   .asciz "mips: ring3 end\n"

        .bss
        .balign 4096
cell:   .skip 4096
        .skip 4096
stack_top:
        .skip 4096
user_stack_top:
