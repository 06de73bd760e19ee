package dev.jkvm.it.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.it.BuiltImage;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The kernel on the PC machines with more RAM than its boot map covers: SeaBIOS puts its ACPI
 * tables at the top of low RAM (2 GiB up on q35 with 2 GiB or more, 3 GiB on pc with 3.5 GiB),
 * where the kernel must map them on demand to find every CPU. expect-cpus= makes a run that
 * found fewer CPUs than the machine has fail, instead of passing on the boot CPU alone.
 */
class MachineConfigurationsOnQemuTest {
    private static final Pattern MEMORY_LINE = Pattern.compile("^memory: (\\d+) MiB of RAM .*highest address (0x[0-9a-f]+)",
            Pattern.MULTILINE);

    @ParameterizedTest(name = "{0} -m {1}")
    @CsvSource({"q35, 2048", "q35, 3584", "q35, 8192", "pc, 2048", "pc, 3584", "pc, 8192"})
    void everyCpuIsFoundWhereverSeaBiosPutsTheTables(String machine, int mebibytes) throws Exception {
        int cpus = 3;
        QemuBoot r = QemuBoot.run(BuiltImage.SMP_KERNEL, machine, cpus, mebibytes + "M",
                "test=boot expect-cpus=" + cpus);
        assertEquals(0, r.status(), r::output);
        SmpBootReport report = new SmpBootReport(r.serial());
        report.line("acpi: MADT trusted, defects 0x0, 3 cpus (3 enabled), local apic at 0xfee00000");
        report.line("fw_cfg: 3 cpus, as the MADT says");
        report.assertAllCpusPassed(cpus);
        Matcher m = MEMORY_LINE.matcher(r.serial());
        assertTrue(m.find(), r::output);
        // The amount (QEMU's -m less the legacy hole below 1 MiB and what SeaBIOS reserves), not the highest address.
        long reported = Long.parseLong(m.group(1));
        assertTrue(reported <= mebibytes && reported > mebibytes - 4, r::output);
        long highest = Long.decode(m.group(2));
        if (mebibytes > 3072) {
            assertTrue(highest > 0xFFFF_FFFFL, () -> "RAM above 4 GiB: " + r.output());
        }
    }

    /** The self-test image too, whose first test is that every CPU is online. */
    @Test
    void selfTestFindsEveryCpuOnQ35With8GiB() throws Exception {
        QemuBoot r = QemuBoot.run(BuiltImage.SMP_SELFTEST, "q35", 4, "8G", "expect-cpus=4 storm-ms=500");
        assertEquals(1, r.status(), r::output);
        new SmpSelfTestTap(r.serial()).assertAllPassed();
        assertTrue(new SmpSelfTestTap(r.serial()).test(1).description().contains("(4 of 4)"), r::output);
    }

    @Test
    void expectCpusFailsARunThatFoundFewerCpus() throws Exception {
        QemuBoot r = QemuBoot.run(BuiltImage.SMP_KERNEL, "q35", 2, "2G", "test=boot expect-cpus=3");
        assertEquals(35, r.status(), r::output);
        new SmpBootReport(r.serial()).line("expect-cpus: 3 cpus expected online, 2 are: FAIL");
    }

    /** Without ACPI the kernel runs on the boot CPU, and says that fw_cfg counts more. */
    @Test
    void firmwareCpuCountDifferingFromAcpiIsReported() throws Exception {
        QemuBoot r = QemuBoot.run(BuiltImage.SMP_KERNEL, "microvm,acpi=off", 2, "256M", "test=boot");
        assertEquals(1, r.status(), r::output);
        new SmpBootReport(r.serial()).line(
                "fw_cfg: 2 cpus, but the kernel found 1 through ACPI: MISMATCH (the other cpus stay unused)");
        QemuBoot strict = QemuBoot.run(BuiltImage.SMP_KERNEL, "microvm,acpi=off", 2, "256M", "test=boot expect-cpus=2");
        assertEquals(35, strict.status(), strict::output);
    }
}
