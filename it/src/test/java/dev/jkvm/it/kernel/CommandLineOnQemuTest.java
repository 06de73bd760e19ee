package dev.jkvm.it.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.it.BuiltImage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The kernel command line is parsed strictly: a word that is not a switch, a malformed number, a
 * switch the image does not implement, or test=hang on one CPU fails the run (isa-debug-exit 0x11,
 * status 35) with one line that names it and what is accepted. QEMU starts the command line with
 * the kernel's path, which the kernel skips.
 */
class CommandLineOnQemuTest {
    private static final String ACCEPTED = "accepted: test=fault|panic|hang|overflow|write-text|xdata|lost-wakeup|deadlock|boot|sched-{";

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
        "test=nonsense; unknown switch in \"test=nonsense\"",
        "test=bootx; unknown switch in \"test=bootx\"",
        "storm-ms=abc selftest; the number is malformed or out of range in \"storm-ms=abc\"",
        "expect-cpus=0; the number is malformed or out of range in \"expect-cpus=0\"",
        "test=boot test=panic; test= is given twice in \"test=panic\"",
        "verbose; unknown switch in \"verbose\""})
    void aWordThatIsNotASwitchFailsTheRun(String cmdline, String message) throws Exception {
        QemuBoot r = QemuBoot.run(BuiltImage.SMP_KERNEL, "microvm", 1, "64M", cmdline);
        assertEquals(35, r.status(), r::output);
        assertTrue(r.serial().contains("cmdline: " + message + "; " + ACCEPTED), r::output);
        assertTrue(r.serial().endsWith("result: FAIL\n"), r::output);
    }

    @Test
    void theSelfTestImageRejectsSwitchesOnlyTheDefaultImageImplements() throws Exception {
        QemuBoot r = QemuBoot.run(BuiltImage.SMP_SELFTEST, "microvm", 1, "64M", "test=sched-fairness");
        assertEquals(35, r.status(), r::output);
        assertTrue(r.serial().contains("cmdline: test=boot, test=lost-wakeup, test=deadlock and test=sched-NAME need the default image"), r::output);
    }

    @Test
    void theDefaultImageRejectsTheSelfTestStormBudgetWithoutTheSuite() throws Exception {
        QemuBoot r = QemuBoot.run(BuiltImage.SMP_KERNEL, "microvm", 1, "64M", "storm-ms=100");
        assertEquals(35, r.status(), r::output);
        assertTrue(r.serial().contains("cmdline: storm-ms= sets the self-test suite's IPI storm budget"), r::output);
    }

    @Test
    void theSelfTestImagePanicsOnRequest() throws Exception {
        QemuBoot r = QemuBoot.run(BuiltImage.SMP_SELFTEST, "microvm", 2, "64M", "test=panic");
        assertEquals(253, r.status(), r::output);
        assertTrue(r.serial().contains("cpu 1 stopped by panic of cpu 0"), r::output);
    }

    @Test
    void hangOnOneCpuSaysItNeedsTwo() throws Exception {
        QemuBoot r = QemuBoot.run(BuiltImage.SMP_KERNEL, "microvm", 1, "64M", "test=hang");
        assertEquals(35, r.status(), r::output);
        assertTrue(r.serial().contains("test=hang needs at least two CPUs"), r::output);
    }
}
