package dev.jkvm.it.kernel;

import dev.jkvm.it.BuiltImage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The same SMP kernel under QEMU's TCG, an independent x86 implementation (and once under QEMU
 * with KVM): microvm with ACPI
 * (QEMU 7.2's microvm builds an RSDP, XSDT and MADT for its qboot firmware by default; the
 * kernel finds them like on jkvm), no PC speaker port, so the kernel calibrates against PIT
 * channel 0, and no x2APIC in the default CPU model, so the local APIC runs in xAPIC mode.
 * microvm rather than q35: its firmware reaches the kernel without SeaBIOS's slow path.
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

    @ParameterizedTest(name = "{0} vCPUs")
    @ValueSource(ints = {1, 2, 4, 8})
    void everyCpuComesUpPassesTheIpiSelfTestsAndRunsTheWorkload(int cpus) throws Exception {
        Result r = qemu(cpus, null);
        assertEquals(1, r.status(), () -> r.serial() + r.stderr());
        SmpBootReport report = new SmpBootReport(r.serial());
        report.assertAllCpusPassed(cpus);
        report.assertSchedulerWorkload(cpus);
        assertTrue(r.serial().contains("lapic: xapic mode (MMIO 0xfee00000)"), r.serial());
        // TCG switches to CPL 0 on SYSCALL as the SDM says: the user tasks' system calls must
        // have come through the real entry, not the page-fault path this host's KVM needs.
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

    @Test
    void withoutAcpiTablesTheKernelFallsBackToTheBootCpuAlone() throws Exception {
        Result r = qemu("microvm,acpi=off", 2, null);
        assertEquals(1, r.status(), () -> r.serial() + r.stderr());
        SmpBootReport report = new SmpBootReport(r.serial());
        report.line("acpi: no valid RSDP in the EBDA or at 0xe0000-0xfffff; booting uniprocessor");
        report.assertAllCpusPassed(1);
    }

    @Test
    void writeToTheStackGuardPageIsReportedAsPageFault() throws Exception {
        Result r = qemu(2, "test=fault");
        assertEquals(255, r.status(), () -> r.serial() + r.stderr());
        assertTrue(r.serial().contains("*** exception #PF page fault (vector 14) on cpu 0"), r.serial());
        assertTrue(r.serial().contains("error code 0x2 "), r.serial());
    }

    /** QEMU with this host's KVM: QEMU's own device models around the same (paravirtual) KVM. */
    @Test
    void bootsUnderQemuWithKvmToo() throws Exception {
        Result r = qemu("microvm", "kvm", 2, null);
        assertEquals(1, r.status(), () -> r.serial() + r.stderr());
        new SmpBootReport(r.serial()).assertAllCpusPassed(2);
    }
}
