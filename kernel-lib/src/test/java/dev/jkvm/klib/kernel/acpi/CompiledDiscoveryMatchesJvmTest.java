package dev.jkvm.klib.kernel.acpi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.klib.nativecode.NativeCode;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.HostArena;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The discovery code as the kernel will run it — compiled to x86-64 by JavaSubsetCompiler —
 * produces the same topology bytes, outcome and console messages as on the JVM, on sound and on
 * broken tables.
 */
@NativeCode
class CompiledDiscoveryMatchesJvmTest {
    private static NativeDiscovery compiled;

    @BeforeAll
    static void compile() throws ReflectiveOperationException {
        compiled = new NativeDiscovery();
    }

    @AfterAll
    static void unload() throws ReflectiveOperationException {
        compiled.close();
    }

    private static Consumer<PhysicalImage> variant(String name) {
        return switch (name) {
            case "sound" -> image -> { };
            case "zero-length-entry" -> image -> {
                MadtBytes madt = MadtBytes.split(image.tableBytes("APIC"));
                byte[] raw = madt.raw();
                raw[madt.offsetOf(madt.indexOf(Madt.TYPE_LOCAL_APIC, 2)) + 1] = 0;
                image.replace("APIC", PhysicalImage.sealed(raw));
            };
            case "truncated-and-duplicate" -> image -> {
                MadtBytes madt = MadtBytes.split(image.tableBytes("APIC"));
                int shortened = madt.indexOf(Madt.TYPE_LOCAL_APIC, 1);
                byte[] six = java.util.Arrays.copyOf(madt.entries().get(shortened), 6);
                six[1] = 6;
                int duplicate = madt.indexOf(Madt.TYPE_LOCAL_APIC, 3);
                byte[] dup = madt.entries().get(duplicate).clone();
                dup[3] = 2;
                image.replace("APIC", madt.with(shortened, six).with(duplicate, dup).sealed());
            };
            case "bad-rsdp" -> image -> image.put8(image.rsdp() + 9, image.u8(image.rsdp() + 9) ^ 1);
            case "bad-madt-checksum" -> image -> {
                long madt = image.table("APIC");
                image.put8(madt + 9, image.u8(madt + 9) + 1);
            };
            default -> throw new IllegalArgumentException(name);
        };
    }

    @ParameterizedTest(name = "{0} {3} bsp={2}")
    @CsvSource({
        "jkvm-smp1,     4194304,   0, sound",
        "jkvm-smp8,     4194304,   5, sound",
        "jkvm-smp300,   4194304, 299, sound",
        "qemu-q35-smp4, 33554432,  0, sound",
        "qemu-pc-smp4,  33554432,  1, sound",
        "jkvm-smp8,     4194304,   0, zero-length-entry",
        "qemu-q35-smp4, 33554432,  0, truncated-and-duplicate",
        "jkvm-smp8,     4194304,   0, bad-rsdp",
        "qemu-pc-smp4,  33554432,  0, bad-madt-checksum",
        "jkvm-smp8,     4194304,  77, sound",
    })
    void compiledRunMatchesJvmRun(String fixture, long ramSize, int bsp, String variant) throws Exception {
        int cpuCapacity = fixture.equals("jkvm-smp300") ? 200 : 64;
        long bytes = Topology.bytesNeeded(cpuCapacity, 4, 16, 8);
        try (PhysicalImage image = PhysicalImage.fixture(fixture, ramSize); Arena arena = HostArena.ofConfined()) {
            variant(variant).accept(image);
            MemorySegment onJvm = arena.allocate(bytes, 16);
            MemorySegment compiledArea = arena.allocate(bytes, 16);
            Topology.format(onJvm.address(), cpuCapacity, 4, 16, 8);
            Topology.format(compiledArea.address(), cpuCapacity, 4, 16, 8);

            Console.hostClear();
            int jvmOutcome = Acpi.discover(image.base(), image.size(), bsp, onJvm.address());
            String jvmLog = Console.hostOutput();
            NativeDiscovery.Run run = compiled.discover(image.base(), image.size(), bsp, compiledArea.address());

            assertEquals(jvmOutcome, run.outcome());
            assertEquals(jvmLog, run.log());
            assertArrayEquals(onJvm.toArray(ValueLayout.JAVA_BYTE), compiledArea.toArray(ValueLayout.JAVA_BYTE));
            assertTrue(Topology.cpuCount(compiledArea.address()) >= 1);
        }
    }
}
