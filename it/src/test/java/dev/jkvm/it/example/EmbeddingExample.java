package dev.jkvm.it.example;

import dev.jkvm.vmm.api.*;
import dev.jkvm.vmm.devices.PioDevice;

import java.nio.file.Path;
import java.time.Duration;

/** Embedding the VMM (the README's example): boots the kernel file args[0] on 4 vCPUs. */
public final class EmbeddingExample {
    private EmbeddingExample() {
    }

    public static void main(String[] args) throws Exception {
        PioDevice myDevice = new PioDevice() {              // reads of its port give 42
            public int read(int port, int size) {
                return 42;
            }

            public void write(int port, int size, int value) {
            }
        };
        try (RunningVm vm = VirtualMachine.builder()
                .cpus(4).memory(256L << 20)
                .kernel(Path.of(args[0]))                   // or kernel(byte[])
                .console(System.out)                        // COM1
                .pio(0x510 + 0x100, 1, myDevice)            // extra port-I/O device
                .timeout(Duration.ofSeconds(30))
                .build().start()) {
            vm.pause(); /* every vCPU out of KVM_RUN: inspect vm.machine().memory() */ vm.resume();
            VmOutcome outcome = vm.await();                 // GUEST_EXIT, POWER_OFF, TRIPLE_FAULT, TIMEOUT, ...
            System.out.println(outcome + " " + vm.stats().totalExits("KVM_EXIT_IO"));
        }
    }
}
