package dev.jkvm.it.container;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The launcher image boots the default guest image on real KVM, as a non-root user. */
class ContainerBootIT {
    @BeforeAll
    static void buildImageOnce() throws Exception {
        LauncherImage.get().get();
    }

    @ParameterizedTest(name = "{0} vCPUs")
    @ValueSource(ints = {2, 4})
    void bootsTheDefaultImage(int cpus) throws Exception {
        VmOutcome out = VmContainer.run(defaultImage("default-image-" + cpus + "-cpus", cpus));

        DefaultImageExpectations.assertBooted(out, cpus);
        assertFalse(DockerEngine.hasContainer(out.containerId()), "the container was not removed");
    }

    @Test
    void twoVmsInTwoContainersAtOnce() throws Exception {
        VmOutcome first;
        VmOutcome second;
        // Both containers are started before either is waited for, so the two VMs run side by side.
        try (VmContainer a = defaultImage("concurrent-a-2-cpus", 2);
             VmContainer b = defaultImage("concurrent-b-2-cpus", 2)) {
            a.start();
            b.start();
            first = a.awaitExit();
            second = b.awaitExit();
        }
        DefaultImageExpectations.assertBooted(first, 2);
        DefaultImageExpectations.assertBooted(second, 2);
        assertAll(
                () -> assertFalse(DockerEngine.hasContainer(first.containerId()), "first container was not removed"),
                () -> assertFalse(DockerEngine.hasContainer(second.containerId()), "second container was not removed"));
    }

    private static VmContainer defaultImage(String logName, int cpus) throws Exception {
        return new VmContainer(logName).withKvm().withArgs(
                "--cpus", Integer.toString(cpus), "--serial", "stdio",
                "--report", VmContainer.REPORT_PATH, "--timeout", "120s");
    }
}
