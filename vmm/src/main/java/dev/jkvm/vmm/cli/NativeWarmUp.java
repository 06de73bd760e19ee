package dev.jkvm.vmm.cli;

import dev.jkvm.vmm.kvm.KvmAbi;
import dev.jkvm.vmm.kvm.Libc;

/**
 * Links the FFM downcalls (Libc's static handles, about a dozen method-handle chains the JVM
 * generates on first use) on a helper thread while the main thread parses the command line:
 * both are start-up work of roughly 100 ms each, and the machines we target have a core to
 * spare. Whatever goes wrong here is left to the main thread, which meets the same error,
 * with its usual one-line report, when it first uses the class.
 */
final class NativeWarmUp {
    private NativeWarmUp() {
    }

    private static final Class<?>[] CLASSES = {Libc.class, KvmAbi.class};

    static void start() {
        Thread.ofPlatform().daemon().name("jkvm-warm-up").start(() -> {
            for (Class<?> type : CLASSES) {
                try {
                    Class.forName(type.getName(), true, type.getClassLoader());
                } catch (Throwable ignored) {
                    // Reported by the main thread when it needs the class (see the class comment).
                }
            }
        });
    }
}
