package dev.jkvm.vmm.api;

import dev.jkvm.testsupport.GnuToolchain;
import dev.jkvm.vmm.vcpu.Accelerator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A device interrupt travels the whole path: the COM1 model raises GSI 4 through KVM_IRQ_LINE,
 * the in-kernel IOAPIC routes it (redirection entry 4, 82093AA datasheet §3.2.4) to the BSP's
 * LAPIC, and the guest's IDT handler runs out of HLT.
 */
class InterruptGuestTest {
    /** LAPIC and IOAPIC are programmed in 32-bit mode, where their MMIO is reachable unpaged. */
    static final String GUEST = """
            _start:
                # Mask both 8259 PICs: KVM resets the BSP's LINT0 to ExtINT (virtual wire), so the
                # PIC would also deliver IRQ 4, at an unprogrammed vector.
                mov $0xff, %al
                out %al, $0x21
                out %al, $0xa1
                # LAPIC on, spurious vector 0xFF (SVR, SDM Vol. 3 §10.9).
                movl $0x1ff, 0xfee000f0
                # IOAPIC pin 4 → vector 0x24, fixed, physical destination APIC 0, edge, unmasked.
                movl $0x18, 0xfec00000
                movl $0x24, 0xfec00010
                movl $0x19, 0xfec00000
                movl $0, 0xfec00010
            """ + GuestSnippets.ENTER_LONG_MODE + """
            long_mode:
                mov $irq_handler, %rax
                mov $idt + 0x24 * 16, %rdi
                mov %ax, (%rdi)
                movw $0x08, 2(%rdi)
                movw $0x8E00, 4(%rdi)
                shr $16, %rax
                mov %ax, 6(%rdi)
                shr $16, %rax
                mov %eax, 8(%rdi)
                movl $0, 12(%rdi)
                lidt idt_ptr
                # COM1 IER: transmitter-holding-register-empty interrupt; it is empty, so it fires.
                mov $0x3f9, %dx
                mov $0x02, %al
                out %al, %dx
                sti
            1:  hlt
                jmp 1b
            irq_handler:
                mov $0x42, %al
                out %al, $0xf4
            2:  hlt
                jmp 2b
            .balign 16
            idt:
                .fill 0x25 * 16, 1, 0
            idt_ptr:
                .word 0x25 * 16 - 1
                .quad idt
            """;

    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void serialInterruptReachesTheGuestHandlerThroughTheIoapic(Accelerator accel) throws Exception {
        try (RunningVm run = GuestAccelerators.builder(accel).memory(16 << 20).kernel(GnuToolchain.multibootElf(GUEST))
                .timeout(Duration.ofSeconds(60)).build().start()) {
            VmOutcome outcome = run.await();
            assertEquals(ExitStatus.debugExit(0x42), outcome.exitStatus(), outcome + "\n" + outcome.crashReport());
        }
    }
}
