package dev.jkvm.vmm.api;

import dev.jkvm.testsupport.GnuToolchain;
import dev.jkvm.vmm.vcpu.Accelerator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Guests that die: the outcome kind, exit status and crash report contents. */
class CrashReportGuestTest {
    /** Long mode, an IDT of not-present gates, then ud2 two calls deep: #UD → #NP → #DF → triple fault. */
    static final String TRIPLE_FAULT = "_start:\n" + GuestSnippets.ENTER_LONG_MODE + """
            long_mode:
                xor %rbp, %rbp
                lidt empty_idt
                call outer
            1:  hlt
                jmp 1b
            outer:
                push %rbp
                mov %rsp, %rbp
                call boom
                pop %rbp
                ret
            boom:
                push %rbp
                mov %rsp, %rbp
                ud2
                .byte 0xf4, 0x90, 0xcc
            empty_idt:
                # 256 gates, all not present (zeroed RAM at 0x20000): SDM Vol. 3 §6.12.1.
                .word 256 * 16 - 1
                .quad 0x20000
            """;

    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void tripleFaultProducesACrashReportWithRegistersCodeAndBacktrace(Accelerator accel) throws Exception {
        try (RunningVm run = GuestAccelerators.builder(accel).memory(16 << 20).kernel(GnuToolchain.multibootElf(TRIPLE_FAULT))
                .timeout(Duration.ofSeconds(120)).build().start()) {
            VmOutcome outcome = run.await();
            String report = outcome.crashReport();
            assertEquals(VmOutcome.Kind.TRIPLE_FAULT, outcome.kind(), outcome + "\n" + report);
            assertEquals(ExitStatus.TRIPLE_FAULT, outcome.exitStatus());
            assertTrue(report.contains("triple fault"), report);
            assertTrue(report.contains("4-level paging"), "the code was reached through the guest's page tables:\n" + report);
            // ud2 is a fault: RIP stays on it (SDM Vol. 3 §6.5), followed by the marker bytes.
            assertTrue(report.contains("0f 0b f4 90 cc"), report);
            assertTrue(report.contains("RIP is boom+0x"), report);
            Matcher frames = Pattern.compile("#1 [0-9a-f]{16} outer\\+0x").matcher(report);
            assertTrue(frames.find(), "frame-pointer walk must find the caller:\n" + report);
            assertTrue(report.contains("CR0=") && report.contains("EFER=") && report.contains("CS  sel=0008"), report);
        }
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void anEmbedderSymbolizerReplacesTheKernelSymbols(Accelerator accel) throws Exception {
        try (RunningVm run = GuestAccelerators.builder(accel).memory(16 << 20).kernel(GnuToolchain.multibootElf(TRIPLE_FAULT))
                .symbolizer(address -> "at_" + Long.toHexString(address)).timeout(Duration.ofSeconds(120)).build().start()) {
            VmOutcome outcome = run.await();
            Matcher rip = Pattern.compile("RIP=([0-9a-f]{16})").matcher(outcome.crashReport());
            assertTrue(rip.find(), outcome.crashReport());
            long address = Long.parseUnsignedLong(rip.group(1), 16);
            assertTrue(outcome.crashReport().contains("RIP is at_" + Long.toHexString(address)), outcome.crashReport());
        }
    }

    /**
     * An exception in 32-bit protected mode with no IDT. Bare-metal KVM reports a triple fault;
     * a nested paravirtual KVM (which emulates ring 0) an emulation failure (PLATFORM.md), the
     * emulated CPU a triple fault as hardware. Either way the report shows the ud2 bytes at RIP,
     * read with paging off.
     */
    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void faultBeforeLongModeIsReportedWithTheCodeAtRip(Accelerator accel) throws Exception {
        String guest = """
                _start:
                    ud2
                    .byte 0xf4, 0xeb, 0xfe
                """;
        try (RunningVm run = GuestAccelerators.builder(accel).memory(8 << 20).kernel(GnuToolchain.multibootElf(guest))
                .timeout(Duration.ofSeconds(120)).build().start()) {
            VmOutcome outcome = run.await();
            String report = outcome.crashReport();
            assertTrue(outcome.kind() == VmOutcome.Kind.EMULATION_ERROR || outcome.kind() == VmOutcome.Kind.TRIPLE_FAULT,
                    outcome + "\n" + report);
            // The emulated CPU does what hardware does: #UD with no IDT -> #DF -> shutdown (SDM Vol. 3 §6.15).
            if (accel == Accelerator.EMULATED) assertEquals(VmOutcome.Kind.TRIPLE_FAULT, outcome.kind(), report);
            assertTrue(report.contains("paging off"), report);
            assertTrue(report.contains("0f 0b f4 eb fe"), report);
            assertTrue(report.contains("RIP is _start+0x0"), report);
        }
    }
}
