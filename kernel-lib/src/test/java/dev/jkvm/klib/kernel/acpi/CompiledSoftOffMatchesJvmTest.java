package dev.jkvm.klib.kernel.acpi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jkvm.klib.nativecode.NativeCode;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.HostArena;

import java.lang.foreign.Arena;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Soft-off's table reading as the kernel runs it — compiled to x86-64 by JavaSubsetCompiler —
 * chooses the same path, for the same reason, with the same SLP_TYP values and console lines as
 * on the JVM, on sound and on broken tables.
 */
@NativeCode
class CompiledSoftOffMatchesJvmTest {
    private static NativeDiscovery compiled;

    @BeforeAll
    static void compile() throws ReflectiveOperationException {
        compiled = new NativeDiscovery(SoftOff.class, SleepPackage.class);
    }

    @AfterAll
    static void unload() throws ReflectiveOperationException {
        compiled.close();
    }

    private static Consumer<PhysicalImage> variant(String name) {
        return switch (name) {
            case "sound" -> image -> { };
            case "bad-fadt-checksum" -> image -> {
                long fadt = image.table("FACP");
                image.put8(fadt + 9, image.u8(fadt + 9) + 1);
            };
            case "bad-dsdt-checksum" -> image -> {
                long dsdt = image.u32(image.table("FACP") + 40);
                image.put8(dsdt + 9, image.u8(dsdt + 9) + 1);
            };
            case "no-s5" -> image -> {
                long dsdt = image.u32(image.table("FACP") + 40);
                for (long at = dsdt + 36; at + 4 <= dsdt + image.length(dsdt); at++) {
                    if (image.u32(at) == SleepPackage.S5) {
                        image.put8(at + 2, '4');
                    }
                }
                image.fixChecksum(dsdt);
            };
            default -> throw new IllegalArgumentException(name);
        };
    }

    @ParameterizedTest(name = "{0} {2}")
    @CsvSource({
        "jkvm-smp8,         4194304,  sound",
        "qemu-q35-smp4,     33554432, sound",
        "qemu-pc-smp4,      33554432, sound",
        "qemu-microvm-smp2, 33554432, sound",
        "jkvm-smp8,         4194304,  bad-fadt-checksum",
        "qemu-q35-smp4,     33554432, bad-dsdt-checksum",
        "jkvm-smp1,         4194304,  no-s5",
    })
    void compiledRunMatchesJvmRun(String fixture, long ramSize, String variant) throws Exception {
        long bytes = Topology.bytesNeeded(16, 4, 16, 8);
        try (PhysicalImage image = PhysicalImage.fixture(fixture, ramSize); Arena arena = HostArena.ofConfined()) {
            variant(variant).accept(image);
            long topology = arena.allocate(bytes, 16).address();

            Topology.format(topology, 16, 4, 16, 8);
            Acpi.discover(image.base(), image.size(), 0, topology);
            Console.hostClear();
            int jvmPath = SoftOff.prepare();
            String jvmLog = Console.hostOutput();

            Topology.format(topology, 16, 4, 16, 8);
            compiled.discover(image.base(), image.size(), 0, topology);
            NativeDiscovery.Run path = compiled.callInt(SoftOff.class, "prepare");

            assertEquals(jvmPath, path.outcome(), "path");
            assertEquals(jvmLog, path.log(), "console lines");
            assertEquals(SoftOff.reason(), compiled.callInt(SoftOff.class, "reason").outcome(), "reason");
            assertEquals(SleepPackage.typeA(), compiled.callInt(SleepPackage.class, "typeA").outcome(), "SLP_TYPa");
            assertEquals(SleepPackage.typeB(), compiled.callInt(SleepPackage.class, "typeB").outcome(), "SLP_TYPb");
        }
    }
}
