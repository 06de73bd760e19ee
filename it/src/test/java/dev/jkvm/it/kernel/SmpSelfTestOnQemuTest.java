package dev.jkvm.it.kernel;

import dev.jkvm.it.BuiltImage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.testsupport.KvmTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The same self-test image under QEMU, an independent implementation of the machine: TCG (a
 * software CPU and local APIC) with 1, 4 and 8 CPUs, and microvm on KVM with 2.
 */
class SmpSelfTestOnQemuTest {
    private record Result(int exitStatus, String serial, String stderr) {}

    private static Result qemu(String accel, int cpus) throws Exception {
        Path binary = Path.of("/usr/bin/qemu-system-x86_64");
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException("qemu-system-x86_64 is missing: install the Debian package qemu-system-x86");
        }
        Path serial = Files.createTempFile("selftest-serial", ".log");
        Path err = Files.createTempFile("selftest-qemu", ".err");
        try {
            List<String> cmd = List.of(binary.toString(), "-M", "microvm", "-accel", accel,
                    "-smp", Integer.toString(cpus), "-m", "256M", "-kernel", BuiltImage.SMP_SELFTEST.path().toString(),
                    "-append", SmpSelfTestOnJkvmTest.CMDLINE,
                    "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-serial", "file:" + serial,
                    "-display", "none", "-nodefaults", "-no-reboot");
            Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(err.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError("QEMU did not finish within 120 s; serial:\n" + Files.readString(serial));
            }
            return new Result(p.exitValue(), Files.readString(serial), Files.readString(err));
        } finally {
            Files.deleteIfExists(serial);
            Files.deleteIfExists(err);
        }
    }

    private static void assertPassed(Result r, int cpus) {
        new SmpSelfTestTap(r.serial).assertAllPassed();
        assertEquals(1, r.exitStatus, () -> r.serial + "\n" + r.stderr);
        assertTrue(new SmpSelfTestTap(r.serial).test(1).description().contains("(" + cpus + " of " + cpus + ")"),
                r.serial);
    }

    @ParameterizedTest(name = "TCG, -smp {0}")
    @ValueSource(ints = {1, 4, 8})
    void everySelfTestPassesUnderTcg(int cpus) throws Exception {
        assertPassed(qemu("tcg", cpus), cpus);
    }

    @KvmTest
    @Test
    void everySelfTestPassesUnderMicrovmOnKvm() throws Exception {
        assertPassed(qemu("kvm", 2), 2);
    }
}
