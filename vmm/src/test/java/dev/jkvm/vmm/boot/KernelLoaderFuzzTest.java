package dev.jkvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.jkvm.vmm.memory.GuestMemory;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;

/**
 * Coverage-guided fuzz target (Jazzer) for the multiboot/ELF loader; one target per class, because
 * Jazzer fuzzes one per JVM (scripts/fuzz gives each class its own).
 * Without JAZZER_FUZZ they replay the committed corpus under
 * src/test/resources/dev/jkvm/vmm/boot/KernelLoaderFuzzTestInputs/ (regression mode, every
 * build); scripts/fuzz runs each one for a bounded time. Invariants for every input:
 * <ul>
 *   <li>the only exception is the loader's own {@link MultibootException}, with a one-line message;</li>
 *   <li>the pre-VM check and the load into RAM of the same size give the same verdict;</li>
 *   <li>an accepted image is placed byte for byte as its plan says (file bytes, then zeros), the
 *       plan QEMU's -kernel follows (MultibootQemuCompatibilityTest replays a corpus sample in QEMU);</li>
 *   <li>bounded time (the per-input timeout) and memory (the fuzz JVM's heap limit in scripts/fuzz).</li>
 * </ul>
 */
class KernelLoaderFuzzTest {
    static final long RAM = 8L << 20;
    /** One guest memory for every input: an accepted kernel overwrites what it uses. */
    private static final GuestMemory MEMORY = new GuestMemory();

    static {
        MEMORY.addRegion(0, Arena.global().allocate(RAM, 4096));
    }

    private static void assertOneLine(MultibootException e) {
        assertFalse(e.getMessage().isEmpty());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void loader(byte[] image) {
        // The pre-VM verdict for a VM with RAM above 4 GiB too (no load: that much RAM is not allocated).
        try {
            MultibootLoader.check("fuzz.elf", image, 5L << 30);
        } catch (MultibootException refused) {
            assertOneLine(refused);
        }
        String early;
        try {
            MultibootLoader.check("fuzz.elf", image, RAM);
            early = null;
        } catch (MultibootException refused) {
            assertOneLine(refused);
            early = refused.getMessage();
        }
        BootInfo info;
        try {
            info = MultibootLoader.load("fuzz.elf", image, MEMORY, "");
        } catch (MultibootException refused) {
            assertOneLine(refused);
            assertEquals(early, refused.getMessage(), "the pre-VM check accepted what the loader refuses");
            return;
        }
        assertNull(early, "the pre-VM check refused what the loader accepts");
        LoadPlan plan = LoadPlan.of("fuzz.elf", image, MultibootHeader.find("fuzz.elf", image));
        assertEquals(plan.entry(), info.entry());
        assertPlacedAsPlanned(image, plan.segments(), MEMORY);
    }

    /** Every segment's file bytes at its address, zeros up to its memory size. */
    static void assertPlacedAsPlanned(byte[] image, List<LoadSegment> segments, GuestMemory memory) {
        for (LoadSegment s : segments) {
            int fileSize = (int) s.fileSize();
            byte[] expected = Arrays.copyOfRange(image, (int) s.fileOffset(), (int) s.fileOffset() + fileSize);
            assertArrayEquals(expected, memory.read(s.address(), fileSize), s.name());
            int bss = (int) (s.memorySize() - s.fileSize());
            byte[] zeros = memory.read(s.address() + fileSize, bss);
            for (byte b : zeros) assertEquals(0, b, s.name() + " bss");
        }
    }
}
