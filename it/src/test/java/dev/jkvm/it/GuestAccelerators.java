package dev.jkvm.it;

import dev.jkvm.testsupport.Forced;
import dev.jkvm.testsupport.KvmProbe;
import dev.jkvm.testsupport.SkipReasons;
import dev.jkvm.vmm.api.VirtualMachine;
import dev.jkvm.vmm.vcpu.Accelerator;

import java.util.Arrays;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.junit.jupiter.params.provider.Arguments;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The accelerators an it/ guest test runs on, one invocation each
 * ({@code @MethodSource("dev.jkvm.it.GuestAccelerators#all")}): the emulated CPU everywhere, KVM
 * where {@code @KvmTest} would run (otherwise aborted with its "KVM only: " reason). The same
 * mechanism as vmm's test class of the same name (test classes of vmm are not on it/'s class path).
 */
public final class GuestAccelerators {
    private GuestAccelerators() {}

    private static final String KVM_PROBLEM = Forced.of("JKVM_KVM") == Forced.ABSENT
            ? "KVM treated as absent (JKVM_KVM=absent)" : KvmProbe.problemOfDevKvm().orElse(null);

    public static Stream<Accelerator> all() {
        return Stream.of(Accelerator.KVM, Accelerator.EMULATED);
    }

    /** Every accelerator crossed with every value: (accelerator, value) invocations. */
    public static Stream<Arguments> crossedWith(int... values) {
        return all().flatMap(a -> IntStream.of(values).mapToObj(v -> Arguments.of(a, v)));
    }

    /** Every accelerator crossed with every row: (accelerator, row...) invocations. */
    public static Stream<Arguments> crossedWith(Object[]... rows) {
        return all().flatMap(a -> Arrays.stream(rows).map(row -> {
            Object[] arguments = new Object[row.length + 1];
            arguments[0] = a;
            System.arraycopy(row, 0, arguments, 1, row.length);
            return Arguments.of(arguments);
        }));
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
