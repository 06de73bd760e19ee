package dev.jkvm.it.container;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.it.TestKernels;
import dev.jkvm.testsupport.DockerTest;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The launcher image with no /dev/kvm passed in (a CI runner without nested virtualisation): the
 * default --accel auto says on one stderr line that it uses the emulated CPU, and guests boot on
 * it as a non-root user with no capability. Runs on hosts with and without KVM alike.
 */
@DockerTest
class ContainerEmulatedIT {
    private static final String SMP_IN_CONTAINER = "/tmp/smp.elf";
    private static final String FALLBACK = "jkvm: KVM is not usable (/dev/kvm does not exist); running on the emulated CPU (--accel emulated)";
    /** The launcher's status for a wall-clock timeout. */
    private static final int TIMEOUT_STATUS = 124;
    private static Path smpKernel;

    @BeforeAll
    static void buildImageAndKernelOnce() throws Exception {
        LauncherImage.get().get();
        smpKernel = TestKernels.build("smp");
    }

    @ParameterizedTest(name = "{0} vCPUs")
    @ValueSource(ints = {2, 4})
    void theSmpKernelSeesEveryVcpuOnTheEmulatedCpu(int cpus) throws Exception {
        ContainerOutcome out = VmContainer.run(smp("emulated-smp-" + cpus + "-cpus", cpus));

        SmpKernelExpectations.assertEveryCpuCameUp(out, cpus);
        assertEquals(List.of(FALLBACK), out.stderr().lines().filter(l -> l.startsWith("jkvm: ")).toList(), out.stderr());
        assertEquals(new LauncherReport("GUEST_EXIT", out.exitStatus(), cpus), LauncherReport.of(out));
        assertTrue(out.report().orElseThrow().contains("\"accelerator\": \"emulated\""), out.report().orElseThrow());
        assertFalse(DockerEngine.hasContainer(out.containerId()), "the container was not removed");
    }

    @Test
    void twoEmulatedVmsInTwoContainersAtOnce() throws Exception {
        ContainerOutcome first;
        ContainerOutcome second;
        try (VmContainer a = smp("emulated-concurrent-a", 2); VmContainer b = smp("emulated-concurrent-b", 2)) {
            a.start();
            b.start();
            first = a.awaitExit();
            second = b.awaitExit();
        }
        SmpKernelExpectations.assertEveryCpuCameUp(first, 2);
        SmpKernelExpectations.assertEveryCpuCameUp(second, 2);
        assertAll(
                () -> assertFalse(DockerEngine.hasContainer(first.containerId()), "first container was not removed"),
                () -> assertFalse(DockerEngine.hasContainer(second.containerId()), "second container was not removed"));
    }

    @Test
    void aSpinningGuestOnTheEmulatedCpuIsEndedByTheTimeout() throws Exception {
        // spin.S prints "S" and loops with interrupts off: only the wall clock can end it.
        Path spin = TestKernels.build("spin");
        ContainerOutcome out = VmContainer.run(new VmContainer("emulated-spin-timeout")
                .withFile(spin, "/tmp/spin.elf")
                .withArgs("--kernel", "/tmp/spin.elf", "--serial", "stdio", "--timeout", "1s"));

        assertEquals(TIMEOUT_STATUS, out.exitStatus(), out.stderr());
        assertTrue(out.serial().lines().anyMatch("S"::equals), "the guest never ran:\n" + out.serial());
        assertFalse(DockerEngine.hasContainer(out.containerId()), "the container was not removed");
    }

    private static VmContainer smp(String logName, int cpus) {
        return new VmContainer(logName).withFile(smpKernel, SMP_IN_CONTAINER).withArgs(
                "--kernel", SMP_IN_CONTAINER, "--cpus", Integer.toString(cpus), "--serial", "stdio",
                "--report", VmContainer.REPORT_PATH, "--timeout", "120s");
    }
}
