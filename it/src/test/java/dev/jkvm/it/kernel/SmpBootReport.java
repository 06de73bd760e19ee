package dev.jkvm.it.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the SMP kernel's boot report from its serial output and checks what every successful
 * boot on n CPUs must show: all CPUs online and idle with distinct APIC IDs that match the ACPI
 * topology, every per-CPU check passed, every IPI self-test and the TLB shootdown passed on the
 * expected number of CPUs, and "result: PASS".
 */
final class SmpBootReport {
    private static final Pattern CPU_LINE = Pattern.compile(
            "^cpu (\\d+): apic (\\d+), stage (\\S+), per-cpu (ok|check FAILED \\S+)", Pattern.MULTILINE);
    private static final Pattern ACPI_IDS = Pattern.compile("^acpi: apic ids((?: \\d+)+)$", Pattern.MULTILINE);
    private static final Pattern LAPIC_RATE = Pattern.compile("^timer: lapic (\\d+) ticks/ms", Pattern.MULTILINE);

    private final String serial;

    SmpBootReport(String serial) {
        this.serial = serial;
    }

    void assertAllCpusPassed(int cpus) {
        line("cpus online: " + cpus + " of " + cpus);
        line("ipi reschedule: " + (cpus - 1) + "/" + (cpus - 1) + " ok");
        line("ipi call-function single: " + (cpus - 1) + "/" + (cpus - 1) + " ok");
        line("ipi call-function many: " + cpus + "/" + cpus + " ok");
        assertTrue(Pattern.compile("^timer: boot cpu ticks [1-9]\\d*, forwarded to " + (cpus - 1) + "/" + (cpus - 1)
                + " ok$", Pattern.MULTILINE).matcher(serial).find(), () -> "no passing timer line in:\n" + serial);
        line("tlb shootdown: old mapping seen by " + cpus + "/" + cpus + ", new mapping after shootdown seen by "
                + cpus + "/" + cpus + " ok");
        line("ipi errors (ESR after each ICR write): 0");
        line("result: PASS");

        Matcher acpi = ACPI_IDS.matcher(serial);
        assertTrue(acpi.find(), () -> "no ACPI APIC ID list in:\n" + serial);
        List<String> topologyIds = List.of(acpi.group(1).trim().split(" "));
        assertEquals(cpus, topologyIds.size(), "CPUs in the ACPI topology");

        Matcher m = CPU_LINE.matcher(serial);
        List<String> reportIds = new ArrayList<>();
        Set<Integer> indexes = new HashSet<>();
        while (m.find()) {
            indexes.add(Integer.parseInt(m.group(1)));
            reportIds.add(m.group(2));
            assertEquals("idle", m.group(3), () -> "stage of " + m.group() + " in:\n" + serial);
            assertEquals("ok", m.group(4), () -> "per-cpu check of " + m.group() + " in:\n" + serial);
        }
        assertEquals(cpus, indexes.size(), () -> "cpu lines in:\n" + serial);
        assertEquals(topologyIds, reportIds, "APIC IDs of the CPUs brought up, in topology order");
        assertEquals(cpus, new HashSet<>(reportIds).size(), "distinct APIC IDs");
    }

    /** The measured APIC timer rate in ticks per millisecond (divide by 16). */
    long lapicTicksPerMs() {
        Matcher m = LAPIC_RATE.matcher(serial);
        assertTrue(m.find(), () -> "no timer calibration line in:\n" + serial);
        return Long.parseLong(m.group(1));
    }

    void line(String expected) {
        assertTrue(Pattern.compile("^" + Pattern.quote(expected) + "$", Pattern.MULTILINE).matcher(serial).find(),
                () -> "expected the line \"" + expected + "\" in:\n" + serial);
    }
}
