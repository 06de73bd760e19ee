package dev.jkvm.vmm.cli;

import dev.jkvm.vmm.kvm.KvmAbi;
import dev.jkvm.vmm.kvm.Libc;
import dev.jkvm.vmm.memory.GuestRam;
import dev.jkvm.vmm.vcpu.Accelerator;

/**
 * Links the FFM downcalls a start will make on a helper thread while the main thread reads and
 * checks the kernel: the JVM generates a method-handle chain and a stub class per call shape on
 * first use, several milliseconds each, which the JDK 25 AOT cache does not store. What is
 * linked follows the accelerator asked for: KVM and auto (which probes /dev/kvm) need Libc's
 * dozen calls (open, ioctl, mmap, signals); the emulated CPU needs only guest RAM's mmap, and
 * linking Libc for it would take CPU time from the main thread on a busy host. Whatever goes
 * wrong here is left to the main thread, which meets the same error, with its usual one-line
 * report, when it first uses the class.
 */
final class NativeWarmUp {
    private NativeWarmUp() {
    }

    static void start(Accelerator requested) {
        Thread.ofPlatform().daemon().name("jkvm-warm-up").start(() -> {
            try {
                if (requested == Accelerator.EMULATED) {
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
