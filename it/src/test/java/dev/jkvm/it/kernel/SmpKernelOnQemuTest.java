package dev.jkvm.it.kernel;

import dev.jkvm.it.BuiltImage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.testsupport.KvmTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The same SMP kernel under QEMU's TCG, an independent x86 implementation (and once under QEMU
 * with KVM): microvm with ACPI
 * (QEMU 7.2's microvm builds an RSDP, XSDT, MADT and a hardware-reduced FADT with a DSDT for its
 * qboot firmware by default; the kernel finds them like on jkvm), no PC speaker port, so the
 * kernel calibrates against PIT channel 0, and no x2APIC in the default CPU model, so the local
 * APIC runs in xAPIC mode. microvm rather than q35 for most tests: its firmware reaches the
 * kernel without SeaBIOS's slow path. A passing run ends in ACPI S5 soft-off, which QEMU reports
 * as status 0 (isa-debug-exit statuses are always odd): through the sleep control register on
 * microvm, through PM1a_CNT on q35 and pc (PIIX4/ICH9 power management), and through
 * isa-debug-exit 0 (status 1) when microvm has no ACPI at all.
 */
class SmpKernelOnQemuTest {
    private record Result(int status, String serial, String stderr) {}

    private static Result qemu(int cpus, String cmdline) throws Exception {
        return qemu("microvm", cpus, cmdline);
    }

    private static Result qemu(String machine, int cpus, String cmdline) throws Exception {
        return qemu(machine, "tcg", cpus, cmdline);
    }

    private static Result qemu(String machine, String accel, int cpus, String cmdline) throws Exception {
        Path binary = Path.of("/usr/bin/qemu-system-x86_64");
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException("qemu-system-x86_64 is missing: install the Debian package qemu-system-x86");
        }
        Path serial = Files.createTempFile("smp-serial", ".log");
        Path err = Files.createTempFile("smp-qemu", ".err");
        try {
            List<String> cmd = new ArrayList<>(List.of(binary.toString(), "-M", machine, "-accel", accel,
                    "-smp", Integer.toString(cpus), "-m", "256M", "-kernel", BuiltImage.SMP_KERNEL.path().toString(),
                    "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-serial", "file:" + serial,
                    "-display", "none", "-nodefaults", "-no-reboot"));
            if (cmdline != null) {
                cmd.add("-append");
                cmd.add(cmdline);
            }
            Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(err.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError("QEMU did not finish within 60 s; serial:\n" + Files.readString(serial));
            }
            return new Result(p.exitValue(), Files.readString(serial), Files.readString(err));
        } finally {
            Files.deleteIfExists(serial);
            Files.deleteIfExists(err);
        }
    }

    private static final Pattern SLEEP_CONTROL_LINE = Pattern.compile(
            "^power: ACPI S5 soft-off through the sleep control register at memory 0x[0-9a-f]{16}, SLP_TYP [0-7]$",
            Pattern.MULTILINE);
    private static final Pattern PM1A_LINE = Pattern.compile(
            "^power: ACPI S5 soft-off through PM1a_CNT at I/O port 0x[0-9a-f]{16}, SLP_TYP [0-7]$", Pattern.MULTILINE);

    @ParameterizedTest(name = "{0} vCPUs")
    @ValueSource(ints = {1, 2, 4, 8})
    void everyCpuComesUpPassesTheIpiSelfTestsAndRunsTheWorkload(int cpus) throws Exception {
        Result r = qemu(cpus, null);
        assertEquals(0, r.status(), () -> r.serial() + r.stderr());
        assertTrue(SLEEP_CONTROL_LINE.matcher(r.serial()).find(), r.serial());
        SmpBootReport report = new SmpBootReport(r.serial());
        report.assertAllCpusPassed(cpus);
        report.assertSchedulerWorkload(cpus);
        assertTrue(r.serial().contains("lapic: xapic mode (MMIO 0xfee00000)"), r.serial());
        // TCG switches to CPL 0 on SYSCALL as the SDM says: the user tasks' system calls must
        // have come through the real entry, not the page-fault path a nested paravirtual KVM
        // (kvm_pvm, which leaves SYSCALL at CPL 3) needs.
        assertFalse(r.serial().contains("SYSCALL reached its entry at CPL 3"), r.serial());
        assertTrue(r.serial().contains("user semaphores: producer sent 50: PASS"), r.serial());
    }

    @Test
    void panicStopsEveryOtherCpu() throws Exception {
        Result r = qemu(4, "test=panic");
        assertEquals(253, r.status(), () -> r.serial() + r.stderr());
        for (int cpu = 1; cpu < 4; cpu++) {
            assertTrue(r.serial().contains("cpu " + cpu + " stopped by panic of cpu 0"), r.serial());
        }
    }

    /**
     * A reschedule IPI lost on purpose (test=lost-wakeup) to an AP whose tick is stopped: without
     * the kernel's stall check the run would hang there; with it the stall is named, the task
     * runs after all, and the run fails.
     */
    @Test
    void aLostWakeUpIsReportedAndFailsTheRun() throws Exception {
        Result r = qemu(3, "test=lost-wakeup");
        assertEquals(35, r.status(), () -> r.serial() + r.stderr());
        assertTrue(r.serial().contains("test: the reschedule ipi for a task queued on cpu 2 will be lost"), r.serial());
        assertTrue(Pattern.compile("sched: stall: cpu 2 idle for \\d+ ms with 1 tasks queued \\(need-resched 1,"
                + " reschedule ipi pending 1, tick stopped 1, its run queue lock held or awaited by 0,")
                .matcher(r.serial()).find(), r.serial());
        assertTrue(r.serial().contains("test: the task on cpu 2 returned 42"), r.serial());
        assertTrue(r.serial().contains("sched: 1 stalls (cpus idle over queued tasks) during the run: FAIL\nresult: FAIL"), r.serial());
    }

    /** test=deadlock: a wait nobody can end is reported, with the blocked task, and ends the run. */
    @Test
    void aDeadlockIsReportedAndEndsTheRun() throws Exception {
        Result r = qemu(2, "test=deadlock");
        assertEquals(35, r.status(), () -> r.serial() + r.stderr());
        assertTrue(Pattern.compile("sched: deadlock: every cpu idle for \\d+ ms with nothing queued and no sleep timer"
                + " armed, and 1 tasks blocked, which nothing can wake: task 0x[0-9a-f]+ \\(wait queue 0x[0-9a-f]+\\)\nresult: FAIL")
                .matcher(r.serial()).find(), r.serial());
        assertFalse(r.serial().contains("test=deadlock: the wait ended"), r.serial());
    }

    @Test
    void withoutAcpiTablesTheKernelFallsBackToTheBootCpuAlone() throws Exception {
        Result r = qemu("microvm,acpi=off", 2, null);
        assertEquals(1, r.status(), () -> r.serial() + r.stderr());
        SmpBootReport report = new SmpBootReport(r.serial());
        report.line("acpi: no valid RSDP in the EBDA or at 0xe0000-0xfffff; booting uniprocessor");
        report.assertAllCpusPassed(1);
        report.line("power: no ACPI S5 soft-off (no valid FADT); exiting through isa-debug-exit");
    }

    @Test
    void writeToTheStackGuardPageIsReportedAsPageFault() throws Exception {
        Result r = qemu(2, "test=fault");
        assertEquals(255, r.status(), () -> r.serial() + r.stderr());
        assertTrue(r.serial().contains("*** exception #PF page fault (vector 14) on cpu 0"), r.serial());
        assertTrue(r.serial().contains("error code 0x2 "), r.serial());
        // The faulting Java line, from the line table the build carries into the image.
        java.util.List<String> source = java.nio.file.Files.readAllLines(
                java.nio.file.Path.of("../kernel-lib/src/main/java/dev/jkvm/klib/kernel/FaultInjection.java"));
        int line = source.indexOf("            Memory.store64(KernelLayout.get(KernelLayout.BSP_STACK_GUARD) + 64, 1);") + 1;
        assertTrue(line > 0, "the guard-page store is no longer in FaultInjection.java: update this test");
        assertTrue(r.serial().contains("\nfault at dev.jkvm.klib.kernel.FaultInjection.afterPaging(FaultInjection.java:" + line + ")\n"), r.serial());
    }

    /** QEMU with the host's KVM: QEMU's own device models around the same KVM jkvm uses. */
    @KvmTest
    @Test
    void bootsUnderQemuWithKvmToo() throws Exception {
        Result r = qemu("microvm", "kvm", 2, null);
        assertEquals(0, r.status(), () -> r.serial() + r.stderr());
        new SmpBootReport(r.serial()).assertAllCpusPassed(2);
    }

    /**
     * The PC machines, whose SeaBIOS puts the ACPI tables in reserved memory below the end of RAM
     * and whose FADT has a PM1a control block (PIIX4 on pc, ICH9 on q35): the kernel finds both
     * CPUs there and powers the machine off through PM1a_CNT.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"q35", "pc"})
    void pcMachinesPowerOffThroughPm1aControl(String machine) throws Exception {
        Result r = qemu(machine, 2, null);
        assertEquals(0, r.status(), () -> r.serial() + r.stderr());
        SmpBootReport report = new SmpBootReport(r.serial());
        report.assertAllCpusPassed(2);
        report.assertSchedulerWorkload(2);
        assertTrue(PM1A_LINE.matcher(r.serial()).find(), r.serial());
    }
}
