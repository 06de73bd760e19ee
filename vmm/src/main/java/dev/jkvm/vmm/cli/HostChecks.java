package dev.jkvm.vmm.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks made before a VM is created, so that the commonest mistakes get one line naming the
 * cause and the fix rather than an errno from deep inside the VMM.
 */
final class HostChecks {
    private HostChecks() {}

    /**
     * For --accel kvm: fails naming the fix when kvm cannot be opened; without KVM the guest still
     * runs on jkvm's emulated CPU (--accel emulated, or auto, the default) or under QEMU TCG.
     */
    static void kvmAccessible(Path kvm, QemuTcgCommand withoutKvm) {
        if (!Files.exists(kvm)) {
            throw new UserError(kvm + " does not exist: this host has no KVM; enable virtualization and load the kvm module"
                    + " (in a container, pass --device /dev/kvm); or drop --accel kvm to run on jkvm's emulated CPU, or under QEMU's: "
                    + withoutKvm.text());
        }
        if (!Files.isReadable(kvm) || !Files.isWritable(kvm)) {
            throw new UserError(kvm + " is not accessible to this user; add the user to the group that owns it"
                    + " (usually kvm) or run as root; or drop --accel kvm to run on jkvm's emulated CPU, or under QEMU's: " + withoutKvm.text());
        }
    }

    /** Total physical memory of the host in bytes, or {@code Long.MAX_VALUE} when unknown. */
    static long hostMemory() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return Long.MAX_VALUE;
        }
        return Long.MAX_VALUE;
    }
}
