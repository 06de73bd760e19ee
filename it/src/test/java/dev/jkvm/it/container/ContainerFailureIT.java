package dev.jkvm.it.container;

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

/** The launcher image's failure paths: each ends with its documented status and no container left. */
@DockerTest
class ContainerFailureIT {
    /** Launcher contract: wall-clock timeout, the status of timeout(1). */
    private static final int TIMEOUT_STATUS = 124;
    /** Launcher contract: bad input or host set-up, reported as one "error: " line. */
    private static final int BAD_INPUT_STATUS = 2;

    @BeforeAll
    static void buildImageOnce() throws Exception {
        LauncherImage.get().get();
    }

    /** KVM asked for by name but not passed in (without --accel kvm the launcher would use its emulated CPU). */
    @Test
    void withAccelKvmButNoKvmDeviceTheLauncherNamesItAndExitsWith2() throws Exception {
        // A readable kernel, so that /dev/kvm is the only thing missing.
        Path spin = TestKernels.build("spin");
        ContainerOutcome out = VmContainer.run(new VmContainer("no-kvm-device")
                .withFile(spin, "/tmp/spin.elf").withArgs("--accel", "kvm", "--kernel", "/tmp/spin.elf", "--cpus", "2"));

        List<String> lines = out.stderr().strip().lines().toList();
        assertEquals(1, lines.size(), "expected one error line, got:\n" + out.stderr());
        assertTrue(lines.get(0).startsWith("error: /dev/kvm does not exist: "), lines.get(0));
        assertEquals(BAD_INPUT_STATUS, out.exitStatus(), out.stderr());
        assertFalse(DockerEngine.hasContainer(out.containerId()), "the container was not removed");
    }

    @KvmTest
    @Test
    void aGuestThatSpinsForeverIsEndedByTheTimeout() throws Exception {
        // spin.S prints "S" and loops with interrupts off: only the wall clock can end it.
        Path spin = TestKernels.build("spin");
        ContainerOutcome out = VmContainer.run(new VmContainer("spin-timeout").withKvm()
                .withFile(spin, "/tmp/spin.elf")
                .withArgs("--kernel", "/tmp/spin.elf", "--serial", "stdio", "--timeout", "1s"));

        assertEquals(TIMEOUT_STATUS, out.exitStatus(), out.stderr());
        assertTrue(out.serial().lines().anyMatch("S"::equals), "the guest never ran:\n" + out.serial());
        assertFalse(DockerEngine.hasContainer(out.containerId()), "the container was not removed");
    }
}
