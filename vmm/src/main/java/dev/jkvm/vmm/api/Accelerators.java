package dev.jkvm.vmm.api;

import dev.jkvm.vmm.emulated.EmulatedMachine;
import dev.jkvm.vmm.kvm.KvmMachine;
import dev.jkvm.vmm.vcpu.Accelerator;
import dev.jkvm.vmm.vcpu.MachineBackend;

/** Chooses the accelerator a VM runs on and creates its machine. */
public final class Accelerators {
    private Accelerators() {}

    /**
     * The accelerator a request resolves to, and — when {@link Accelerator#AUTO} fell back to the
     * emulated CPU — why KVM was not used (null otherwise).
     */
    public record Choice(Accelerator accelerator, String fallbackReason) {}

    /** What AUTO resolved to in this JVM; probed once (a probe opens /dev/kvm and creates a VM: milliseconds per start). */
    private static volatile Choice auto;

    /** KVM and EMULATED resolve to themselves; AUTO probes /dev/kvm (open it, create a VM), once per JVM. */
    public static Choice resolve(Accelerator requested) {
        if (requested != Accelerator.AUTO) return new Choice(requested, null);
        Choice c = auto;
        if (c == null) {
            String reason = KvmMachine.unavailableReason();
            auto = c = reason == null ? new Choice(Accelerator.KVM, null) : new Choice(Accelerator.EMULATED, reason);
        }
        return c;
    }

    /** Creates the machine of a resolved accelerator for {@code cpus} vCPUs. */
    static MachineBackend create(Accelerator accelerator, int cpus) {
        return create(accelerator, cpus, true);
    }

    /** As above; without {@code pit} the machine has no 8254 (QEMU's {@code -M ...,pit=off}). */
    static MachineBackend create(Accelerator accelerator, int cpus, boolean pit) {
        return switch (accelerator) {
            case KVM -> KvmMachine.create(cpus, pit);
            case EMULATED -> EmulatedMachine.create(pit);
            case AUTO -> throw new IllegalArgumentException("AUTO must be resolved first");
        };
    }
}
