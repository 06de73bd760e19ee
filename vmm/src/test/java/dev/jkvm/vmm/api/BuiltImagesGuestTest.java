package dev.jkvm.vmm.api;

import dev.jkvm.vmm.vcpu.Accelerator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The project's own images (kernel-lib, built by images/) on every accelerator: hello.elf
 * (compiled Java over COM1) and smp-selftest.elf (INIT-SIPI-SIPI, IPIs, TLB shootdown, locks: 18
 * TAP tests) — on the emulated CPU these exercise real mode, protected and long mode, paging with
 * NX, the LAPIC/x2APIC, SYSCALL-free ring 0 SMP and the PIT calibration.
 */
class BuiltImagesGuestTest {
    static byte[] image(String name) throws IOException {
        try (InputStream in = BuiltImagesGuestTest.class.getResourceAsStream("/dev/jkvm/images/" + name)) {
            if (in == null) throw new IllegalStateException(name + " is not on the class path; build images/ first");
            return in.readAllBytes();
        }
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")
    void helloPrintsOverCom1AndExits(Accelerator accel) throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (RunningVm run = GuestAccelerators.builder(accel).memory(64L << 20).kernel(image("hello.elf")).console(console)
                .timeout(Duration.ofSeconds(120)).build().start()) {
            VmOutcome outcome = run.await();
            String serial = console.toString(StandardCharsets.ISO_8859_1);
            assertEquals(VmOutcome.Kind.GUEST_EXIT, outcome.kind(), outcome + "\n" + serial + outcome.crashReport());
            assertEquals(ExitStatus.debugExit(0), outcome.exitStatus(), serial);
            assertEquals("Hello from jkvm\ncompiled Java says 6 * 7 = 0x000000000000002a\n", serial);
            assertEquals(accel.label(), run.stats().accelerator());
        }
    }

    static Stream<Arguments> selfTestCpus() {
        return GuestAccelerators.crossedWith(1, 2, 4);
    }

    @ParameterizedTest(name = "{0}, {1} vCPUs")
    @MethodSource("selfTestCpus")
    void smpSelfTestPassesAll(Accelerator accel, int cpus) throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        // storm-ms bounds the IPI storm's wall time (as it/SmpSelfTestOnJkvmTest does): it scales itself down.
        try (RunningVm run = GuestAccelerators.builder(accel).cpus(cpus).memory(256L << 20).kernel(image("smp-selftest.elf"))
                .cmdline("storm-ms=1500").console(console).timeout(Duration.ofSeconds(300)).build().start()) {
            VmOutcome outcome = run.await();
            String serial = console.toString(StandardCharsets.ISO_8859_1);
            assertEquals(VmOutcome.Kind.GUEST_EXIT, outcome.kind(), outcome + "\n" + serial + outcome.crashReport());
            assertTrue(serial.contains("# all 18 tests passed"), serial);
            assertTrue(serial.contains("ok 1 - ") && serial.contains("(" + cpus + " of " + cpus + ")"), serial);
            assertTrue(!serial.contains("not ok"), serial);
            assertEquals(ExitStatus.debugExit(0), outcome.exitStatus(), serial);
        }
    }
}
