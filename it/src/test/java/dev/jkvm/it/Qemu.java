package dev.jkvm.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a multiboot kernel under QEMU's microvm machine, the independent reference for our VMM:
 * same serial port, isa-debug-exit at 0xF4 and fw_cfg, so a kernel must print the same bytes and
 * exit with the same status on both.
 */
public final class Qemu {
    public record Result(int status, String serial, String stderr) {}

    private Qemu() {}

    public static Result run(Path kernel, String accel, int cpus, String memory, long timeoutSeconds)
            throws IOException, InterruptedException {
        return run(kernel, accel, cpus, memory, timeoutSeconds, null);
    }

    /** As run, with a kernel command line (-append; QEMU puts the image path in front of it). */
    public static Result run(Path kernel, String accel, int cpus, String memory, long timeoutSeconds, String commandLine)
            throws IOException, InterruptedException {
        Path binary = Path.of("/usr/bin/qemu-system-x86_64");
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException("qemu-system-x86_64 is not installed; scripts/test installs the Debian package qemu-system-x86");
        }
        Path serial = Files.createTempFile("qemu-serial", ".log");
        Path err = Files.createTempFile("qemu-stderr", ".log");
        try {
            List<String> cmd = new ArrayList<>(List.of(binary.toString(),
                    "-M", "microvm", "-accel", accel, "-smp", Integer.toString(cpus), "-m", memory,
                    "-kernel", kernel.toString(),
                    "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                    "-serial", "file:" + serial, "-display", "none", "-nodefaults", "-no-reboot"));
            if (commandLine != null) {
                cmd.addAll(List.of("-append", commandLine));
            }
            Process p = new ProcessBuilder(cmd).redirectErrorStream(false)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(err.toFile()).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new IllegalStateException("QEMU (" + accel + ") did not finish within " + timeoutSeconds + " s");
            }
            return new Result(p.exitValue(), Files.readString(serial), Files.readString(err));
        } finally {
            Files.deleteIfExists(serial);
            Files.deleteIfExists(err);
        }
    }
}
