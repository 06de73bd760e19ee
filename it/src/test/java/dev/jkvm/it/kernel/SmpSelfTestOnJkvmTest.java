package dev.jkvm.it.kernel;

import dev.jkvm.it.BuiltImage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.it.GuestAccelerators;
import dev.jkvm.it.Qemu;
import dev.jkvm.vmm.api.RunningVm;
import dev.jkvm.vmm.api.VirtualMachine;
import dev.jkvm.vmm.api.VmOutcome;
import dev.jkvm.vmm.vcpu.Accelerator;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Boots the self-test image on our VMM, once per accelerator (GuestAccelerators: the emulated CPU
 * everywhere, KVM where it is usable), and requires every TAP test to pass. Ring-0 code runs
 * emulated on the emulated CPU and on a KVM that emulates ring 0 (a nested paravirtual KVM), so
 * the IPI storm gets a short budget (storm-ms) and scales itself down when it runs out. On the
 * emulated CPU every run is also compared with QEMU TCG, an independent software x86, on the same
 * image and command line: the same TAP plan and the same result line for every test (issue 11 §5).
 */
class SmpSelfTestOnJkvmTest {
    static final String CMDLINE = "storm-ms=1500";

    private record Run(VmOutcome outcome, String serial) {}

    private static Run boot(VirtualMachine.Builder builder) throws Exception {
        return boot(builder, CMDLINE);
    }

    private static Run boot(VirtualMachine.Builder builder, String cmdline) throws Exception {
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        VirtualMachine vmDefinition = builder.memory(256L << 20).kernel(BuiltImage.SMP_SELFTEST.bytes()).console(serial)
                .cmdline(cmdline).timeout(Duration.ofSeconds(180)).build();
        try (RunningVm vm = vmDefinition.start()) {
            VmOutcome outcome = vm.await();
            return new Run(outcome, serial.toString(StandardCharsets.ISO_8859_1));
        }
    }

    static Stream<Arguments> cpuCounts() {
        return GuestAccelerators.crossedWith(1, 2, 4, 8, 16);
    }

    @ParameterizedTest(name = "{0}, {1} vCPUs")
    @MethodSource("cpuCounts")
    void everySelfTestPasses(Accelerator accel, int cpus) throws Exception {
        Run run = boot(GuestAccelerators.builder(accel).cpus(cpus));
        VmOutcome outcome = run.outcome;
        String output = run.serial;
        SmpSelfTestTap tap = new SmpSelfTestTap(output);
        tap.assertAllPassed();
        assertEquals(VmOutcome.Kind.GUEST_EXIT, outcome.kind(), () -> outcome + "\n" + output);
        // isa-debug-exit value 0 (all passed), reported QEMU's way: (0 << 1) | 1.
        assertEquals(1, outcome.exitStatus(), output);
        assertTrue(tap.test(1).description().contains("(" + cpus + " of " + cpus + ")"), tap.test(1).description());
        if (cpus > 1) {
            assertTrue(tap.test(4).description().contains("(" + cpus * (cpus - 1) + " of " + cpus * (cpus - 1)),
                    tap.test(4).description());
            assertTrue(tap.hasComment("ipi round trip: median "), output);
        }
        assertTrue(tap.hasComment("bring-up: all cpus online "), output);
        if (accel == Accelerator.EMULATED) {
            Qemu.Result tcg = Qemu.run(BuiltImage.SMP_SELFTEST.path(), "tcg", cpus, "256M", 180, CMDLINE);
            assertEquals(1, tcg.status(), () -> tcg.serial() + "\n" + tcg.stderr());
            SmpSelfTestTap reference = new SmpSelfTestTap(tcg.serial());
            assertEquals(reference.planned, tap.planned, "TAP plan under QEMU TCG and on the emulated CPU");
            assertEquals(comparable(reference), comparable(tap), "TAP results under QEMU TCG (expected) and on the emulated CPU");
        }
    }

    /**
     * The result lines as they must agree between two CPUs: the same verdict for the same test in
     * the same words, with every number replaced by N. The numbers are measurements of each run:
     * IPIs that fit in the storm's time budget, lock acquisitions in a time-bounded round (198 or
     * 240 on 16 vCPUs), a timeout seen after 100 or 107 ms. The counts that must be exact are
     * checked above ("(n of n)").
     */
    private static List<String> comparable(SmpSelfTestTap tap) {
        return tap.results.stream().map(r -> (r.ok() ? "ok " : "not ok ") + r.number() + " - "
                + r.description().replaceAll("\\d+", "N")).toList();
    }

    /**
     * The storm at its full size, with no budget from the command line: every CPU pings every
     * other until 100 000 IPIs were sent, and every target must have counted exactly its share.
     */
    @ParameterizedTest
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    void theFullIpiStormDeliversOneHundredThousandIpisOnFourCpus(Accelerator accel) throws Exception {
        Run run = boot(GuestAccelerators.builder(accel).cpus(4), "");
        SmpSelfTestTap tap = new SmpSelfTestTap(run.serial);
        tap.assertAllPassed();
        String storm = tap.results.stream().map(SmpSelfTestTap.Result::description)
                .filter(d -> d.startsWith("ipi storm: ")).findFirst().orElseThrow();
        Matcher counts = Pattern.compile("ipi storm: (\\d+) ipis sent, (\\d+) received").matcher(storm);
        assertTrue(counts.find(), storm);
        assertEquals(counts.group(1), counts.group(2), storm);
        assertTrue(Long.parseLong(counts.group(1)) >= 100_000, storm);
        assertFalse(run.serial.contains("scaled down"), run.serial);
    }

    /**
     * An AP the VMM withholds (listed in the MADT, never started) must fail the first test, and
     * the run must end with the suite's failure value 0x11, reported as (0x11 << 1) | 1 = 35.
     */
    @ParameterizedTest
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    void aCpuThatNeverComesUpFailsTheSuite(Accelerator accel) throws Exception {
        Run run = boot(GuestAccelerators.builder(accel).cpus(3).offlineCpu(2));
        SmpSelfTestTap tap = new SmpSelfTestTap(run.serial);
        assertEquals(tap.planned, tap.results.size(), run.serial);
        assertFalse(tap.test(1).ok(), run.serial);
        assertTrue(tap.test(1).description().contains("(2 of 3)"), tap.test(1).description());
        assertTrue(tap.test(4).ok(), "the two CPUs that are up still reach each other:\n" + run.serial);
        assertEquals(35, run.outcome.exitStatus(), () -> run.outcome + "\n" + run.serial);
    }
}
