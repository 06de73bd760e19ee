package dev.jkvm.it.container;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.it.TestKernels;
import dev.jkvm.testsupport.DockerTest;
import dev.jkvm.testsupport.KvmTest;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The launcher image boots guests on real KVM as a non-root user with only /dev/kvm passed in. */
@DockerTest
@KvmTest
class ContainerBootIT {
    private static final String SMP_IN_CONTAINER = "/tmp/smp.elf";
    private static Path smpKernel;

    @BeforeAll
    static void buildImageAndKernelOnce() throws Exception {
        LauncherImage.get().get();
        smpKernel = TestKernels.build("smp");
    }

    @ParameterizedTest(name = "{0} vCPUs")
    @ValueSource(ints = {2, 4})
    void theSmpKernelSeesEveryVcpu(int cpus) throws Exception {
        ContainerOutcome out = VmContainer.run(smp("smp-" + cpus + "-cpus", cpus));

        SmpKernelExpectations.assertEveryCpuCameUp(out, cpus);
        LauncherReport report = LauncherReport.of(out);
        assertEquals(new LauncherReport("GUEST_EXIT", out.exitStatus(), cpus), report);
        assertFalse(DockerEngine.hasContainer(out.containerId()), "the container was not removed");
    }

    @Test
    void twoVmsInTwoContainersAtOnce() throws Exception {
        ContainerOutcome first;
        ContainerOutcome second;
        // Both containers are started before either is waited for, so the two VMs run side by side.
        try (VmContainer a = smp("concurrent-a-2-cpus", 2); VmContainer b = smp("concurrent-b-2-cpus", 2)) {
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

    /**
     * The built-in image is whatever kernel the images module ships, so the reference is the
     * same jar run on the host: the container must change nothing the guest can see.
     */
    @ParameterizedTest(name = "{0} vCPUs")
    @ValueSource(ints = {2, 4})
    void theBuiltInImageBootsAsOnTheHost(int cpus) throws Exception {
        String[] args = {"--cpus", Integer.toString(cpus), "--serial", "stdio", "--timeout", "120s"};
        HostLauncher.Result host = HostLauncher.run(args);
        ContainerOutcome out = VmContainer.run(new VmContainer("built-in-image-" + cpus + "-cpus").withKvm()
                .withArgs(args).withArgs("--report", VmContainer.REPORT_PATH));

        // The guest ended the run (power-off 0, or isa-debug-exit's odd (v << 1) | 1), not the launcher.
        assertTrue(out.exitStatus() == 0 || out.exitStatus() % 2 == 1,
                () -> "status " + out.exitStatus() + ", stderr:\n" + out.stderr());
        assertFalse(out.serial().isBlank(), "the built-in image printed nothing");
        assertEquals(host.exitStatus(), out.exitStatus(), () -> "host stderr:\n" + host.stderr() + "\ncontainer stderr:\n" + out.stderr());
        // Lines compared as sets: CPUs may report in a different order from run to run.
        assertEquals(sortedLines(host.stdout()), sortedLines(out.serial()), "serial console, host vs container");
        LauncherReport report = LauncherReport.of(out);
        assertEquals(cpus, report.cpus(), "vCPUs in the report");
        assertEquals(out.exitStatus(), report.exitStatus(), "status in the report");
        assertFalse(DockerEngine.hasContainer(out.containerId()), "the container was not removed");
    }

    /**
     * The built-in image (the SMP kernel) logs measurements that differ from run to run: its
     * timer calibration, its bring-up time, and its scheduler's counts and timings (which CPU ran
     * what, switches, milliseconds, task IDs), and how many interrupts and timer ticks each CPU
     * took by the time it reported (since the boot CPU waits in HLT woken by its timer during
     * bring-up, that count follows the host's scheduling); the exit status still says whether
     * they passed. Every other line must match, the counts masked to N.
     */
    private static List<String> sortedLines(String text) {
        return text.lines()
                .filter(l -> !l.startsWith("timer: lapic ") && !l.matches("smp: \\d+ cpus online after \\d+ ms"))
                .filter(l -> !SCHEDULER_MEASUREMENTS.matcher(l).lookingAt())
                .map(l -> l.replaceAll("^(cpu \\d+: .*, interrupts )\\d+", "$1N").replaceAll("^(timer: boot cpu ticks )\\d+", "$1N"))
                .sorted().toList();
    }

    private static final java.util.regex.Pattern SCHEDULER_MEASUREMENTS = java.util.regex.Pattern.compile(
            "sched: |kernel tasks: |workload: |user fault: |Exception in task |user sleepers: |user hello: ");

    private static VmContainer smp(String logName, int cpus) throws Exception {
        return new VmContainer(logName).withKvm().withFile(smpKernel, SMP_IN_CONTAINER).withArgs(
                "--kernel", SMP_IN_CONTAINER, "--cpus", Integer.toString(cpus), "--serial", "stdio",
                "--report", VmContainer.REPORT_PATH, "--timeout", "120s");
    }
}
