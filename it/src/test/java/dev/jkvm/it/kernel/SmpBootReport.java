package dev.jkvm.it.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.klib.kernel.user.PrimeCount;

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

    /**
     * The default image's workload ("primes below LIMIT") or the same code in fewer tasks
     * ("sum of PrimeCount.share(0..LAST)": LAST + 1 of its PrimeCount.CHUNKS shares), with the
     * scheduler checks' blocking tasks alongside.
     */
    private static final Pattern WORKLOAD = Pattern.compile(
            "^workload: (?:primes below (\\d+)|sum of PrimeCount\\.share\\(0\\.\\.(\\d+)\\)) = (\\d+)"
                    + " \\(host at build time: (\\d+)\\), (\\d+) ring-3 tasks;"
                    + " producer/consumer sum 55, sleeper sleeps 6; \\d+ ms: PASS$", Pattern.MULTILINE);
    private static final Pattern TABLE_ROW = Pattern.compile(
            "^sched: (\\d+)  (\\d+)  (\\d+)  (\\d+)  (\\d+)  (\\d+)  (\\d+)  (\\d+)$", Pattern.MULTILINE);

    /**
     * The scheduler part of a default boot on n CPUs: kernel tasks on every CPU, the ring-3 task
     * checks (a user read of kernel text killed by a page fault, a user divide by zero killed,
     * semaphores, sleeps), the prime-count workload against a sieve computed here (an algorithm
     * independent of the guest's trial division), and one table row per CPU.
     */
    void assertSchedulerWorkload(int cpus) {
        assertTrue(Pattern.compile("^kernel tasks: \\d+ tasks x \\d+ increments, .* ran on " + cpus + " of " + cpus
                + " cpus, pinned tasks off their cpu 0, \\d+ context switches: PASS$", Pattern.MULTILINE)
                .matcher(serial).find(), () -> "no passing kernel task line in:\n" + serial);
        line("user: hello from ring 3");
        assertTrue(Pattern.compile("^user hello: exit value 10\\d\\d: PASS$", Pattern.MULTILINE).matcher(serial).find(),
                () -> "no passing user hello line in:\n" + serial);
        // #PF error code 0x5: a read (bit 1 clear) in user mode (bit 2) of a present page (bit 0), SDM Vol. 3A 4.7.
        assertTrue(Pattern.compile("^user fault: task 0x[0-9a-f]+ killed on cpu \\d+: vector 14, rip 0x[0-9a-f]+"
                + " <dev_jkvm_klib_kernel_user_UserPrograms__touchKernel\\+0x[0-9a-f]+>, error code 0x5, cr2 0x101000\n"
                + "Exception in task 0x[0-9a-f]+ on cpu \\d+: page fault: read at address 0x101000 \\(protection violation\\)\n"
                + "\tat dev\\.jkvm\\.klib\\.kernel\\.user\\.UserPrograms\\.touchKernel\\(UserPrograms\\.java:\\d+\\)$",
                Pattern.MULTILINE).matcher(serial).find(),
                () -> "no page fault report of the user task reading kernel text in:\n" + serial);
        line("user access to kernel memory: exit value -1014: PASS");
        line("user fault isolation (divide by zero): exit value -1006: PASS");
        line("user semaphores: producer sent 50: PASS");
        line("user sleepers: sleeps done 9: PASS");

        Matcher w = WORKLOAD.matcher(serial);
        assertTrue(w.find(), () -> "no passing workload line in:\n" + serial);
        String what;
        long primes;
        if (w.group(1) != null) {
            int limit = Integer.parseInt(w.group(1));
            what = "primes below " + limit;
            primes = sievePrimesBelow(limit);
        } else {
            int shares = Integer.parseInt(w.group(2)) + 1;
            what = "primes in the first " + shares + " shares";
            primes = sievePrimesInShares(shares);
        }
        assertEquals(primes, Long.parseLong(w.group(3)), what + " counted by the guest");
        assertEquals(primes, Long.parseLong(w.group(4)), what + " the build computed");
        int chunks = Integer.parseInt(w.group(5));

        Matcher row = TABLE_ROW.matcher(serial.substring(w.end()));
        long tasksRun = 0;
        int rows = 0;
        while (row.find()) {
            assertEquals(rows, Integer.parseInt(row.group(1)), "table rows in CPU order");
            long run = Long.parseLong(row.group(2));
            assertTrue(cpus == 1 || run > 0, "cpu " + rows + " ran no task:\n" + serial);
            assertTrue(Long.parseLong(row.group(3)) >= run, "switches >= tasks run on cpu " + rows);
            assertTrue(Integer.parseInt(row.group(8)) <= 100, "idle percentage");
            tasksRun += run;
            rows++;
        }
        assertEquals(cpus, rows, () -> "per-cpu table rows in:\n" + serial);
        assertTrue(tasksRun >= chunks + 4, "tasks run in all: " + tasksRun);
    }

    /**
     * The primes in PrimeCount.share(0) .. share(shares - 1), by the sieve: share i is the blocks
     * i, i + CHUNKS, i + 2 CHUNKS, ... of BLOCK numbers each below LIMIT.
     */
    static long sievePrimesInShares(int shares) {
        int limit = (int) PrimeCount.LIMIT;
        boolean[] composite = sieve(limit);
        long count = 0;
        for (int n = 2; n < limit; n++) {
            if (!composite[n] && (n / PrimeCount.BLOCK) % PrimeCount.CHUNKS < shares) {
                count++;
            }
        }
        return count;
    }

    private static boolean[] sieve(int limit) {
        boolean[] composite = new boolean[limit];
        for (int n = 2; (long) n * n < limit; n++) {
            if (!composite[n]) {
                for (long m = (long) n * n; m < limit; m += n) {
                    composite[(int) m] = true;
                }
            }
        }
        return composite;
    }

    /** Sieve of Eratosthenes. */
    static long sievePrimesBelow(int limit) {
        boolean[] composite = new boolean[limit];
        long count = 0;
        for (int n = 2; n < limit; n++) {
            if (!composite[n]) {
                count++;
                for (long m = (long) n * n; m < limit; m += n) {
                    composite[(int) m] = true;
                }
            }
        }
        return count;
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
