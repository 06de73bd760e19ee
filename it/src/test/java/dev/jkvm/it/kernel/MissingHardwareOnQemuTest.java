package dev.jkvm.it.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.it.BuiltImage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Machines that lack what the kernel needs, under QEMU TCG: each is named on one line and the run
 * stops cleanly (isa-debug-exit 0x11, status 35) before the missing piece is used, instead of a
 * PIT interrupt showing up as a double fault or ring-3 tasks dying with #UD.
 */
class MissingHardwareOnQemuTest {
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = ';', value = {
        "q35; -cpu qemu64,-apic; ; cpu: no local APIC (CPUID 1 EDX bit 9)",
        "q35; -cpu qemu64,-syscall; ; cpu: no SYSCALL/SYSRET (CPUID 0x80000001 EDX bit 11)",
        "q35; -cpu qemu64,-nx; test=xdata; cpu: no NX (CPUID 0x80000001 EDX bit 20)",
        "microvm,pit=off; ; ; timer: calibration against the 8254 PIT is out of range",
        "pc,pit=off; ; ; timer: calibration against the 8254 PIT is out of range"})
    void missingHardwareIsNamedAndTheRunStops(String machine, String cpuOption, String cmdline, String line)
            throws Exception {
        String[] extra = cpuOption == null ? new String[0] : cpuOption.split(" ");
        QemuBoot r = QemuBoot.run(BuiltImage.SMP_KERNEL, machine, 2, "128M", cmdline, extra);
        assertEquals(35, r.status(), r::output);
        assertTrue(r.serial().contains("\n" + line), r::output);
        assertTrue(r.serial().endsWith("; stopping\nresult: FAIL\n"), r::output);
        assertFalse(r.serial().contains("*** exception"), r::output);
    }

    /** Without NX the kernel maps without it and runs; its protections line says what it has. */
    @Test
    void withoutNxTheKernelRunsWithoutIt() throws Exception {
        QemuBoot r = QemuBoot.run(BuiltImage.SMP_KERNEL, "microvm", 2, "128M", "test=boot", "-cpu", "qemu64,-nx");
        assertEquals(0, r.status(), r::output);
        assertTrue(r.serial().contains("; protections: wp\n") || r.serial().contains("; protections: (none) wp\n"),
                r::output);
    }
}
