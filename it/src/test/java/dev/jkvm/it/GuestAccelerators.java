package dev.jkvm.it;

import dev.jkvm.testsupport.Forced;
import dev.jkvm.testsupport.KvmProbe;
import dev.jkvm.testsupport.SkipReasons;
import dev.jkvm.vmm.api.VirtualMachine;
import dev.jkvm.vmm.vcpu.Accelerator;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The accelerators an it/ guest test runs on, one invocation each
 * ({@code @MethodSource("dev.jkvm.it.GuestAccelerators#all")}): the emulated CPU everywhere, KVM
 * where {@code @KvmTest} would run (otherwise aborted with its "KVM only: " reason).
 */
public final class GuestAccelerators {
    private GuestAccelerators() {}

    private static final String KVM_PROBLEM = Forced.of("JKVM_KVM") == Forced.ABSENT
            ? "KVM treated as absent (JKVM_KVM=absent)" : KvmProbe.problemOfDevKvm().orElse(null);

    public static Stream<Accelerator> all() {
        return Stream.of(Accelerator.KVM, Accelerator.EMULATED);
    }

    /** {@code a}, after skipping the invocation when it cannot run on this host. */
    public static Accelerator use(Accelerator a) {
        if (a == Accelerator.KVM) assumeTrue(KVM_PROBLEM == null, () -> SkipReasons.KVM + KVM_PROBLEM);
        return a;
    }

    public static VirtualMachine.Builder builder(Accelerator a) {
        return VirtualMachine.builder().accelerator(use(a));
    }
}
