package dev.jkvm.vmm.api;

import dev.jkvm.testsupport.GnuToolchain;
import dev.jkvm.vmm.vcpu.Accelerator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A guest that switches itself to long mode and handles #UD through its own IDT. */
class LongModeGuestTest {
    static final String GUEST = "_start:\n" + GuestSnippets.ENTER_LONG_MODE + """
            long_mode:
                # 64-bit interrupt gate for vector 6 (#UD): SDM Vol. 3 §6.14.1, Figure 6-8.
                mov $ud_handler, %rax
                mov $idt + 6 * 16, %rdi
                mov %ax, (%rdi)
                movw $0x08, 2(%rdi)
                movw $0x8E00, 4(%rdi)
                shr $16, %rax
                mov %ax, 6(%rdi)
                shr $16, %rax
                mov %eax, 8(%rdi)
                movl $0, 12(%rdi)
                lidt idt_ptr
            faulting:
                ud2
                mov $0x66, %bl
                jmp report
            ud_handler:
                # #UD pushes no error code: the saved RIP is on top and must be the ud2.
                mov $0x3f8, %dx
                mov $'U', %al
                out %al, %dx
                mov $'D', %al
                out %al, %dx
                mov $0x55, %bl
                cmpq $faulting, (%rsp)
                je report
                mov $0x77, %bl
            report:
                mov %bl, %al
                out %al, $0xf4
            1:  hlt
                jmp 1b
            .balign 16
            idt:
                .fill 7 * 16, 1, 0
            idt_ptr:
                .word 7 * 16 - 1
                .quad idt
            """;

    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void exceptionInLongModeGoesThroughTheGuestIdt(Accelerator accel) throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (RunningVm run = GuestAccelerators.builder(accel).memory(16 << 20).kernel(GnuToolchain.multibootElf(GUEST))
                .console(console).timeout(Duration.ofSeconds(120)).build().start()) {
            VmOutcome outcome = run.await();
            assertEquals(VmOutcome.Kind.GUEST_EXIT, outcome.kind(), outcome + "\n" + outcome.crashReport());
            assertEquals(ExitStatus.debugExit(0x55), outcome.exitStatus(), outcome.toString());
            assertEquals("UD", console.toString(StandardCharsets.US_ASCII));
        }
    }
}
