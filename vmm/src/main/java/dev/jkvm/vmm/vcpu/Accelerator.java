package dev.jkvm.vmm.vcpu;

import java.util.Locale;

/** What runs guest code: the host's KVM, the CPU emulated in Java, or KVM when usable. */
public enum Accelerator {
    /** Linux KVM through /dev/kvm: hardware virtualization, the fast path. */
    KVM,
    /** The x86-64 CPU, interrupt controllers and timers emulated in Java: runs on any host. */
    EMULATED,
    /** KVM when /dev/kvm is usable (it opens and a VM can be created), otherwise EMULATED. */
    AUTO;

    /** The lower-case name a user types and the run summary prints: "kvm", "emulated", "auto". */
    public String label() { return name().toLowerCase(Locale.ROOT); }

    /** Parses "kvm", "emulated" or "auto" (any case); throws with the accepted names otherwise. */
    public static Accelerator parse(String s) {
        for (Accelerator a : values()) if (a.label().equalsIgnoreCase(s.strip())) return a;
        throw new IllegalArgumentException("unknown accelerator '" + s + "'; give kvm, emulated or auto");
    }
}
