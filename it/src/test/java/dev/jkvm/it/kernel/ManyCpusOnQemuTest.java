package dev.jkvm.it.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.it.BuiltImage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The kernel at CPU counts well beyond the rest of the suite, under QEMU TCG on q35, kept to a
 * few seconds each: the default workload at 45 CPUs (where the kernel-task check once ran out of
 * pinned tasks for the last CPU), and bring-up alone ("test=boot") at 64, 128 and 255 CPUs, each
 * with expect-cpus= so that a CPU missing fails the run. All APs start in parallel and waiting
 * APs halt, so bring-up stays linear in the CPU count.
 */
class ManyCpusOnQemuTest {
    @Test
    void theDefaultWorkloadPassesOn45Cpus() throws Exception {
        int cpus = 45;
        QemuBoot r = QemuBoot.run(BuiltImage.SMP_KERNEL, "q35", cpus, "512M", "expect-cpus=" + cpus);
        assertEquals(0, r.status(), r::output);
        SmpBootReport report = new SmpBootReport(r.serial());
        report.assertAllCpusPassed(cpus);
        assertTrue(r.serial().contains(" tasks x 4000 increments, shared counter 720000 of 720000, exit values sum"
                + " 720000, ran on 45 of 45 cpus, pinned tasks off their cpu 0, "), r::output);
    }

    @ParameterizedTest(name = "{0} CPUs")
    @ValueSource(ints = {64, 128, 255})
    void everyCpuComesOnline(int cpus) throws Exception {
        QemuBoot r = QemuBoot.run(BuiltImage.SMP_KERNEL, "q35", cpus, "512M", "test=boot expect-cpus=" + cpus);
        assertEquals(0, r.status(), r::output);
        SmpBootReport report = new SmpBootReport(r.serial());
        report.line("fw_cfg: " + cpus + " cpus, as the MADT says");
        report.assertAllCpusPassed(cpus);
        report.line("boot only: the scheduler runs on every cpu");
    }
}
