package dev.jkvm.it.kernel;

import dev.jkvm.it.BuiltImage;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One boot of a built image under QEMU with TCG on any machine type, RAM size, CPU count, command
 * line and extra QEMU options (a CPU model without a feature, a machine without a PIT), with the
 * serial output collected and the wall time from launch to exit measured.
 */
record QemuBoot(int status, String serial, String stderr, long millis) {
    static QemuBoot run(BuiltImage image, String machine, int cpus, String memory, String cmdline,
            String... extra) throws Exception {
        Path binary = Path.of("/usr/bin/qemu-system-x86_64");
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException("qemu-system-x86_64 is missing: install the Debian package qemu-system-x86");
        }
        Path serial = Files.createTempFile("qemu-boot", ".log");
        Path err = Files.createTempFile("qemu-boot", ".err");
        try {
            List<String> cmd = new ArrayList<>(List.of(binary.toString(), "-M", machine, "-accel", "tcg",
                    "-smp", Integer.toString(cpus), "-m", memory, "-kernel", image.path().toString(),
                    "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-serial", "file:" + serial,
                    "-display", "none", "-nodefaults", "-no-reboot"));
            if (cmdline != null) {
                cmd.add("-append");
                cmd.add(cmdline);
            }
            cmd.addAll(List.of(extra));
            long start = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(err.toFile()).start();
            if (!p.waitFor(180, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError("QEMU did not finish within 180 s (a hang guard); serial:\n"
                        + Files.readString(serial));
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            return new QemuBoot(p.exitValue(), Files.readString(serial), Files.readString(err), millis);
        } finally {
            Files.deleteIfExists(serial);
            Files.deleteIfExists(err);
        }
    }

    /** Serial output and QEMU's stderr, for assertion messages. */
    String output() {
        return serial + "\n--- qemu stderr:\n" + stderr;
    }
}
