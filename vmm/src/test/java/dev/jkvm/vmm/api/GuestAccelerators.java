package dev.jkvm.vmm.api;

import dev.jkvm.testsupport.Forced;
import dev.jkvm.testsupport.KvmProbe;
import dev.jkvm.testsupport.SkipReasons;
import dev.jkvm.vmm.vcpu.Accelerator;
import org.junit.jupiter.params.provider.Arguments;

import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The accelerators a guest test runs on: KVM and the emulated CPU, each a separate invocation
 * ({@code @ParameterizedTest @MethodSource("dev.jkvm.vmm.api.GuestAccelerators#all")}). The
 * emulated CPU runs everywhere; on a host without a usable /dev/kvm the KVM invocation is
 * skipped (aborted by {@link #assumeUsable}) with the reason, never silently left out.
 */
public final class GuestAccelerators {
    private GuestAccelerators() {}

    /**
     * Why KVM is not usable here, or null: as {@code @KvmTest}'s condition decides it (JKVM_KVM=absent,
     * else the probe that opens /dev/kvm and creates a VM).
     */
    private static final String KVM_PROBLEM = Forced.of("JKVM_KVM") == Forced.ABSENT
            ? "KVM treated as absent (JKVM_KVM=absent)" : KvmProbe.problemOfDevKvm().orElse(null);

    public static Stream<Accelerator> all() {
        return Stream.of(Accelerator.KVM, Accelerator.EMULATED);
    }

    /** Every accelerator crossed with every value, for tests that were parameterized before. */
    public static Stream<Arguments> crossedWith(int... values) {
        return all().flatMap(a -> IntStream.of(values).mapToObj(v -> Arguments.of(a, v)));
    }

    /** Skips (aborts) the invocation when {@code a} cannot run on this host. */
    public static void assumeUsable(Accelerator a) {
        if (a == Accelerator.KVM) assumeTrue(KVM_PROBLEM == null, () -> SkipReasons.KVM + KVM_PROBLEM);
    }

    /** A builder on {@code a}, after {@link #assumeUsable}. */
    public static VirtualMachine.Builder builder(Accelerator a) {
        assumeUsable(a);
        return VirtualMachine.builder().accelerator(a);
    }
}
