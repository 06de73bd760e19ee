package dev.jkvm.vmm.api;

import dev.jkvm.testsupport.GnuToolchain;
import dev.jkvm.vmm.vcpu.Accelerator;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An opcode the emulated CPU lacks (x87 arithmetic: FLD1, D9 E8) raises #UD in the guest, as
 * hardware does for an opcode it does not have, and the run summary names it with its RIP and
 * count, so a user can tell the emulator's gap from a bug in their kernel.
 */
class UnimplementedOpcodeGuestTest {
    static final String GUEST = GuestSnippets.ENTER_LONG_MODE + """
            long_mode:
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
                xor %ebx, %ebx
                mov $2, %ecx
            again:
                fld1
                loop again
                # BL counts the #UDs the handler saw: 2 means both FLD1 faulted and were skipped.
                mov %bl, %al
                out %al, $0xf4
            1:  hlt
                jmp 1b
            ud_handler:
                inc %ebx
                addq $2, (%rsp)
                iretq
            .balign 16
            idt:
                .fill 7 * 16, 1, 0
            idt_ptr:
                .word 7 * 16 - 1
                .quad idt
            """;

    @Test
    void anUnimplementedOpcodeIsUdInTheGuestAndCountedInTheSummary() throws Exception {
        byte[] kernel = GnuToolchain.multibootElf(GUEST);
        try (RunningVm run = GuestAccelerators.builder(Accelerator.EMULATED).memory(16 << 20).kernel(kernel)
                .timeout(Duration.ofSeconds(60)).build().start()) {
            VmOutcome outcome = run.await();
            assertEquals(ExitStatus.debugExit(2), outcome.exitStatus(), outcome + "\n" + outcome.crashReport());
            List<String> notes = run.stats().acceleratorNotes();
            assertEquals(1, notes.size(), notes.toString());
            assertTrue(Pattern.matches("emulated cpu: unimplemented opcode d9 e8 at RIP 0x[0-9a-f]+ \\(2 times\\)", notes.get(0)),
                    notes.get(0));
        }
    }
}
