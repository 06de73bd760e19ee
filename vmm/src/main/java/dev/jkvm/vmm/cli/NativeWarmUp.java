package dev.jkvm.vmm.cli;

import dev.jkvm.vmm.kvm.KvmAbi;
import dev.jkvm.vmm.kvm.Libc;
import dev.jkvm.vmm.memory.GuestRam;
import dev.jkvm.vmm.vcpu.Accelerator;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Links the FFM downcalls a start will make on a helper thread while the main thread reads and
 * checks the kernel: the JVM generates a method-handle chain and a stub class per call shape on
 * first use, several milliseconds each, which the JDK 25 AOT cache does not store. What is
 * linked follows the accelerator asked for: KVM, and auto where /dev/kvm is there to be probed,
 * need Libc's dozen calls (open, ioctl, mmap, signals); the emulated CPU, also auto's fallback
 * on a host without /dev/kvm, needs only guest RAM's mmap, and linking Libc for it would take
 * CPU time from the main thread on a busy host. Whatever goes
 * wrong here is left to the main thread, which meets the same error, with its usual one-line
 * report, when it first uses the class.
 */
final class NativeWarmUp {
    private NativeWarmUp() {
    }

    static void start(Accelerator requested) {
        Thread.ofPlatform().daemon().name("jkvm-warm-up").start(() -> {
            try {
                Path kvm = Path.of("/dev/kvm");
                boolean kvmLikely = requested == Accelerator.KVM
                        || requested == Accelerator.AUTO && Files.isReadable(kvm) && Files.isWritable(kvm);
                if (!kvmLikely) {
                    GuestRam.linkNativeCalls();
                } else {
                    for (Class<?> type : new Class<?>[] {Libc.class, KvmAbi.class}) {
                        Class.forName(type.getName(), true, type.getClassLoader());
                    }
                }
            } catch (Throwable ignored) {
                // Reported by the main thread when it needs the class (see the class comment).
            }
        });
    }
}
