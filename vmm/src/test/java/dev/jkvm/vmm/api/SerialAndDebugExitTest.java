package dev.jkvm.vmm.api;

import dev.jkvm.testsupport.GnuToolchain;
import dev.jkvm.vmm.vcpu.Accelerator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** 32-bit guests booted through the multiboot path talking to COM1 and isa-debug-exit. */
class SerialAndDebugExitTest {
    static final String HELLO = """
            _start:
                mov $0x3f8, %dx
                mov $msg, %esi
                mov $(msg_end - msg), %ecx
                cld
                rep outsb
                mov $0x2a, %al
                out %al, $0xf4
            1:  hlt
                jmp 1b
            msg: .ascii "hello"
            msg_end:
            """;

    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void guestWritesHelloToCom1AndExitsThroughDebugExit(Accelerator accel) throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (RunningVm run = GuestAccelerators.builder(accel).cpus(1).memory(16 << 20)
                .kernel(GnuToolchain.multibootElf(HELLO)).console(console)
                .timeout(Duration.ofSeconds(60)).build().start()) {
            VmOutcome outcome = run.await();
            assertEquals(VmOutcome.Kind.GUEST_EXIT, outcome.kind(), outcome.toString());
            assertEquals((0x2a << 1) | 1, outcome.exitStatus());
            assertEquals("hello", console.toString(StandardCharsets.US_ASCII));
            VmStats stats = run.stats();
            assertTrue(stats.totalExits("io") >= 2, stats.toString());
            assertTrue(stats.timeToFirstSerialByte() != null, "first serial byte time must be recorded");
            assertTrue(stats.timeToExit() != null);
        }
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> exitValues() {
        return GuestAccelerators.crossedWith(0, 1, 0x7f, 0xff);
    }

    @ParameterizedTest
    @MethodSource("exitValues")
    void debugExitStatusFollowsQemuConvention(Accelerator accel, int value) throws Exception {
        String guest = """
                _start:
                    mov $%d, %%al
                    out %%al, $0xf4
                1:  hlt
                    jmp 1b
                """.formatted(value);
        try (RunningVm run = GuestAccelerators.builder(accel).memory(8 << 20).kernel(GnuToolchain.multibootElf(guest))
                .timeout(Duration.ofSeconds(60)).build().start()) {
            VmOutcome outcome = run.await();
            assertEquals(VmOutcome.Kind.GUEST_EXIT, outcome.kind(), outcome.toString());
            assertEquals(value * 2 + 1, outcome.exitStatus());
        }
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void multibootStateAndCpuidReachTheGuest(Accelerator accel) throws Exception {
        // Multiboot 0.6.96 §3.2: EAX holds the magic, EBX the info structure, CR0 has PE (and ET)
        // without PG; and the VMM's CPUID advertises x2APIC (leaf 1 ECX bit 21) and a hypervisor
        // (bit 31). The guest reports 1 when all hold, else the number of the first failed
        // check. (EFLAGS.IF is checked through KVM_GET_REGS in BootCpuStateTest: under this
        // host's paravirtual KVM a guest pushf shows the host's IF.)
        String guest = """
                _start:
                    mov $2, %dl
                    cmp $0x2BADB002, %eax
                    jne bad
                    mov $3, %dl
                    test %ebx, %ebx
                    jz bad
                    mov $5, %dl
                    mov %cr0, %ecx
                    cmp $0x11, %ecx
                    jne bad
                    mov $6, %dl
                    mov $1, %eax
                    cpuid
                    and $0x80200000, %ecx
                    cmp $0x80200000, %ecx
                    jne bad
                    mov $1, %dl
                bad:
                    mov %dl, %al
                    out %al, $0xf4
                1:  hlt
                    jmp 1b
                """;
        try (RunningVm run = GuestAccelerators.builder(accel).memory(8 << 20).kernel(GnuToolchain.multibootElf(guest))
                .timeout(Duration.ofSeconds(60)).build().start()) {
            VmOutcome outcome = run.await();
            assertEquals(ExitStatus.debugExit(1), outcome.exitStatus(), outcome.toString());
        }
    }
}
