/*
 * Starts every other CPU with INIT-SIPI-SIPI and counts them. The CPU count comes from fw_cfg
 * (QEMU docs/specs/fw_cfg.rst, FW_CFG_NB_CPUS), so the kernel needs no ACPI. Each AP wakes in
 * real mode at the trampoline copied to 0x8000, increments a counter with a locked add and
 * halts. The BSP prints how many came up and exits through isa-debug-exit with that count of
 * CPUs (process status (n << 1) | 1).
 */
#include "multiboot.inc"
        .set LAPIC_SVR, 0xFEE000F0
        .set LAPIC_ICR_LOW, 0xFEE00300
        .set LAPIC_ICR_HIGH, 0xFEE00310
        .set TRAMPOLINE, 0x8000
        .set AP_COUNTER, 0x7000
        .set FW_CFG_SELECTOR, 0x510
        .set FW_CFG_DATA, 0x511

        .text
        .code32
        .globl _start
_start:
        cli
        movl $stack_top, %esp
        call serial_init
        /* CPU count from fw_cfg item 0x05 (16-bit little-endian). */
        movw $FW_CFG_SELECTOR, %dx
        movw $0x05, %ax
        outw %ax, %dx
        movw $FW_CFG_DATA, %dx
        inb %dx, %al
        movb %al, cpu_count
        inb %dx, %al
        movb %al, cpu_count + 1
        movl $count_msg, %esi
        call puts
        movl cpu_count, %ecx
        call serial_hex32
        movb $'\n', %bl
        call serial_putc

        movl $0, AP_COUNTER
        movl $trampoline, %esi
        movl $TRAMPOLINE, %edi
        movl $trampoline_end - trampoline, %ecx
        cld
        rep movsb

        /* Software-enable the LAPIC (SVR bit 8, Intel SDM Vol. 3 §10.9): without it a nested
         * paravirtual KVM (kvm_pvm) accepts INIT/SIPI and starts nothing (PLATFORM.md). */
        orl $0x1FF, LAPIC_SVR
        /* INIT to all excluding self (ICR shorthand 11b, level assert; SDM Vol. 3 §10.6.1). */
        movl $0, LAPIC_ICR_HIGH
        movl $0x000C4500, LAPIC_ICR_LOW
        movl $20000, %ecx
        call delay
        /* Two SIPIs with vector 0x08 -> start at 0x8000 (SDM Vol. 3 §8.4.4.1). */
        movl $0x000C4608, LAPIC_ICR_LOW
        movl $2000, %ecx
        call delay
        movl $0x000C4608, LAPIC_ICR_LOW

        movl cpu_count, %edi
        decl %edi                         /* APs expected */
        movl $1500000, %ecx
wait:   cmpl %edi, AP_COUNTER
        jae done
        pause
        decl %ecx
        jnz wait
done:   movl $online_msg, %esi
        call puts
        movl AP_COUNTER, %ecx
        incl %ecx
        call serial_hex32
        movb $'\n', %bl
        call serial_putc
        movl AP_COUNTER, %eax
        incl %eax
        movw $DEBUG_EXIT, %dx
        outl %eax, %dx
halt:   hlt
        jmp halt

delay:  pause
        decl %ecx
        jnz delay
        ret

#include "serial.inc"

/* Real-mode AP entry, copied to TRAMPOLINE; it references only absolute low addresses. */
        .code16
trampoline:
        cli
        xorw %ax, %ax
        movw %ax, %ds
        lock incl AP_COUNTER
1:      hlt
        jmp 1b
trampoline_end:

        .section .rodata
count_msg:  .asciz "fw_cfg cpus: 0x"
online_msg: .asciz "cpus online: 0x"

        .bss
        .balign 16
cpu_count: .long 0
        .skip 4096
stack_top:
