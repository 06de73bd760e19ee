package dev.jkvm.vmm.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The QEMU command that boots the same kernel on a host without KVM, for the launcher's error:
 * QEMU's microvm with TCG (its software x86) gives a guest what jkvm does: COM1 on stdio,
 * isa-debug-exit at 0xF4 (QEMU's own exit-status convention, which the launcher follows) and,
 * with acpi=on, ACPI tables with S5 soft-off. The built-in image is a class-path resource, so it
 * is copied to a file the command can name.
 */
record QemuTcgCommand(Path kernel, byte[] image, int cpus, long memory, String cmdline) {
    /** Where the built-in image is written when the command needs a file for it. */
    static final Path BUILT_IN_COPY = Path.of(System.getProperty("java.io.tmpdir"), "jkvm-built-in.elf");

    String text() {
        StringBuilder command = new StringBuilder("qemu-system-x86_64 -accel tcg -M microvm,acpi=on -smp ").append(cpus)
                .append(" -m ").append(memory >> 20).append("M -nographic -no-reboot")
                .append(" -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel ").append(kernelFile());
        if (!cmdline.isEmpty()) command.append(" -append '").append(cmdline.replace("'", "'\\''")).append('\'');
        return command.toString();
    }

    private String kernelFile() {
        if (kernel != null) return kernel.toAbsolutePath().toString();
        try {
            Files.write(BUILT_IN_COPY, image);
            return BUILT_IN_COPY.toString();
        } catch (IOException e) {
            return "FILE (a copy of the built-in image; writing one to " + BUILT_IN_COPY + " failed: " + e.getMessage() + ")";
        }
    }
}
