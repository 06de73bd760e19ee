package dev.jkvm.it.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.it.GuestAccelerators;
import dev.jkvm.it.Jkvm;
import dev.jkvm.it.Qemu;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.vmm.api.VmOutcome;
import dev.jkvm.vmm.vcpu.Accelerator;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Differential test of kernel-lib's compiler inside a real guest: the same Java-subset driver
 * runs on the host JVM and, compiled to x86-64, in ring 3 of a guest booted by our VMM on each
 * accelerator (GuestAccelerators: KVM and the emulated CPU) and under QEMU TCG, an independent
 * x86. The serial output must equal the JVM's console text.
 */
class CompiledCodeInRingThreeTest {
    @TempDir
    Path dir;

    private record Reference(String jvm, Path image) {}

    private Reference jvmOutputAndImage() throws Exception {
        Console.hostClear();
        RingThreeDriver.run();
        String jvm = Console.hostOutput();
        assertTrue(jvm.endsWith("done\n") && jvm.lines().count() > 400, jvm);

        Path image = dir.resolve("ring3.elf");
        RingThreeImage.build(RingThreeDriver.class, "run").writeTo(image);
        return new Reference(jvm, image);
    }

    @ParameterizedTest
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    void ringThreeGuestPrintsWhatTheJvmPrints(Accelerator accel) throws Exception {
        GuestAccelerators.use(accel);
        Reference ref = jvmOutputAndImage();
        Jkvm.Result kvm = Jkvm.run(accel, ref.image(), 1, 64L << 20, Duration.ofSeconds(120));
        assertEquals(VmOutcome.Kind.GUEST_EXIT, kvm.outcome().kind(), () -> kvm.outcome() + "\n" + kvm.outcome().crashReport());
        assertEquals(1, kvm.outcome().exitStatus(), kvm.serial());
        assertEquals(ref.jvm(), kvm.serial(), "compiled code in ring 3 of a guest on " + accel.label() + " disagrees with the JVM");
    }

    @Test
    void ringThreeUnderQemuTcgPrintsWhatTheJvmPrints() throws Exception {
        Reference ref = jvmOutputAndImage();
        Qemu.Result tcg = Qemu.run(ref.image(), "tcg", 1, "64M", 120);
        assertEquals(1, tcg.status(), tcg.stderr());
        assertEquals(ref.jvm(), tcg.serial(), "compiled code under QEMU TCG disagrees with the JVM");
    }
}
