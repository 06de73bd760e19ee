package dev.jkvm.klib.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/** The fuzz harness itself can fail: checked accesses stop at the buffers, and a seed really reaches the parsers. */
class CheckedKernelTest {
    @Test
    void accessesOutsideTheAllowedBuffersAreRefusedBeforeTheyHappen() throws Throwable {
        CheckedKernel kernel = new CheckedKernel();
        MethodHandle load8 = kernel.method("dev.jkvm.klib.rt.Memory", "load8", byte.class, long.class);
        MethodHandle store64 = kernel.method("dev.jkvm.klib.rt.Memory", "store64", void.class, long.class, long.class);
        MemorySegment buffer = Arena.global().allocate(64);
        Bounds.allow(buffer);
        store64.invoke(buffer.address() + 56, 0x1122334455667788L);
        assertEquals((byte) 0x11, (byte) load8.invoke(buffer.address() + 63));
        AssertionError e = assertThrows(AssertionError.class, () -> store64.invoke(buffer.address() + 57, 0L));
        assertTrue(e.getMessage().contains("outside every buffer"), e.getMessage());
        assertThrows(AssertionError.class, () -> load8.invoke(0x10L));
    }

    @Test
    void theJkvmSeedDiscoversEightCpus() throws Throwable {
        Path seed = Path.of(getClass().getResource("AcpiTablesFuzzTestInputs/tables/seed-jkvm-smp8").toURI());
        new AcpiTablesFuzzTest().tables(Files.readAllBytes(seed));
        assertEquals(8, AcpiTablesFuzzTest.lastCpuCount, "the seed is parsed as the 8-CPU machine it was captured from");
        assertEquals(1, AcpiTablesFuzzTest.lastSoftOffPath, "and its FADT/\\_S5 give the PM1 control path");
    }
}
