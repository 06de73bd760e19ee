package dev.jkvm.it.example;

import dev.jkvm.vmm.api.*;
import dev.jkvm.vmm.devices.PioDevice;
import dev.jkvm.vmm.vcpu.Accelerator;

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
                .accelerator(Accelerator.AUTO)              // KVM when usable, else the emulated CPU; or KVM / EMULATED
                .kernel(Path.of(args[0]))                   // or kernel(byte[])
                .console(System.out)                        // COM1
                .pio(0x510 + 0x100, 1, myDevice)            // extra port-I/O device
                .timeout(Duration.ofSeconds(30))
                .build().start()) {
            vm.pause(); /* every vCPU out of guest code: inspect vm.machine().memory() */ vm.resume();
            VmOutcome outcome = vm.await();                 // GUEST_EXIT, POWER_OFF, TRIPLE_FAULT, TIMEOUT, ...
            System.out.println(outcome + " on " + vm.stats().accelerator() + ", port exits: " + vm.stats().totalExits("io"));
        }
    }
}
