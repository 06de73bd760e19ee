package dev.jkvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** ELF kernels land where readelf says their PT_LOAD segments go (p_paddr), bss zeroed. */
class MultibootElfLoadTest {
    private static final long ONE_MIB = 0x100000;

    static Path kernel(String which) {
        return switch (which) {
            case "elf32" -> MultibootTestKernels.elf32();
            case "elf64" -> MultibootTestKernels.elf64();
            case "higher" -> MultibootTestKernels.higherHalf();
            default -> throw new IllegalArgumentException(which);
        };
    }

    /**
     * ld maps the ELF headers one page below -Ttext; that page (0xFF000) is in the BIOS/ACPI area
     * and must stay untouched, every other segment must be loaded.
     */
    private static boolean isHeaderPageBelowOneMiB(Binutils.Segment s) {
        return s.offset() == 0 && s.physicalAddress() + s.memorySize() <= ONE_MIB;
    }

    @ParameterizedTest
    @ValueSource(strings = {"elf32", "elf64", "higher"})
    void everyLoadSegmentIsCopiedToItsPhysicalAddressAndItsBssZeroed(String which) {
        Path elf = kernel(which);
        byte[] image = Binutils.bytes(elf);
        List<Binutils.Segment> segments = Binutils.loadSegments(elf);
        assertTrue(segments.size() >= 2, "readelf lists the test kernel's segments");
        try (MarkedRam ram = MarkedRam.mib(64)) {
            BootInfo info = MultibootLoader.load(image, ram.memory, "");
            long lowest = Long.MAX_VALUE;
            long highest = 0;
            boolean sawBss = false;
            for (Binutils.Segment s : segments) {
                if (isHeaderPageBelowOneMiB(s)) {
                    byte[] untouched = ram.memory.read(s.physicalAddress(), (int) s.memorySize());
                    byte[] garbage = new byte[untouched.length];
                    Arrays.fill(garbage, MarkedRam.GARBAGE);
                    assertArrayEquals(garbage, untouched, "the ELF header page in the BIOS area is left alone");
                    continue;
                }
                byte[] expected = Arrays.copyOfRange(image, (int) s.offset(), (int) (s.offset() + s.fileSize()));
                assertArrayEquals(expected, ram.memory.read(s.physicalAddress(), (int) s.fileSize()),
                        "file bytes of the segment at " + Long.toHexString(s.physicalAddress()));
                int bss = (int) (s.memorySize() - s.fileSize());
                if (bss > 0) {
                    sawBss = true;
                    assertArrayEquals(new byte[bss], ram.memory.read(s.physicalAddress() + s.fileSize(), bss), "bss zeroed");
                }
                lowest = Math.min(lowest, s.physicalAddress());
                highest = Math.max(highest, s.physicalAddress() + s.memorySize());
            }
            assertTrue(sawBss, "the test kernel has a bss");
            assertEquals(lowest, info.kernelStart());
            assertTrue(info.kernelEnd() >= highest, "kernelEnd covers the bss");
            assertEquals(0x9000, info.mbiAddress());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"elf32", "elf64"})
    void entryIsTheElfEntryPoint(String which) {
        Path elf = kernel(which);
        long readelfEntry = Binutils.headerField(elf, "Entry point address");
        try (MarkedRam ram = MarkedRam.mib(64)) {
            BootInfo info = MultibootLoader.load(Binutils.bytes(elf), ram.memory, "");
            assertEquals(readelfEntry, info.entry());
            assertEquals(Binutils.nm(elf).get("_start").address(), info.entry());
        }
    }

    @Test
    void higherHalfKernelIsEnteredAtThePhysicalAddressOfItsEntry() {
        Path elf = MultibootTestKernels.higherHalf();
        long virtualEntry = Binutils.headerField(elf, "Entry point address");
        assertTrue(virtualEntry >= 0xC0000000L, "linked high");
        try (MarkedRam ram = MarkedRam.mib(64)) {
            BootInfo info = MultibootLoader.load(Binutils.bytes(elf), ram.memory, "");
            // higher.ld loads every section at its link address minus 0xC0000000.
            assertEquals(virtualEntry - 0xC0000000L, info.entry());
            assertEquals(ONE_MIB, info.kernelStart());
            assertEquals("_start+0x0", info.symbols().symbolize(virtualEntry));
        }
    }

    @Test
    void programBytesAtTheEntryAreTheAssembledStartCode() {
        Path elf = MultibootTestKernels.elf32();
        // objdump is a second, independent reading of where _start's instructions are.
        String dump = Binutils.run("objdump", "-d", "--section=.text", elf.getFileName().toString());
        String firstInstruction = dump.lines().dropWhile(l -> !l.contains("<_start>:")).skip(1).findFirst().orElseThrow();
        String[] bytes = firstInstruction.split("\t")[1].trim().split(" ");
        try (MarkedRam ram = MarkedRam.mib(64)) {
            BootInfo info = MultibootLoader.load(Binutils.bytes(elf), ram.memory, "");
            byte[] loaded = ram.memory.read(info.entry(), bytes.length);
            for (int i = 0; i < bytes.length; i++) {
                assertEquals((byte) Integer.parseInt(bytes[i], 16), loaded[i], "byte " + i + " of _start");
            }
        }
    }

    @Test
    void checkHeaderAcceptsTheBootableKernels() {
        for (String which : List.of("elf32", "elf64", "higher")) {
            MultibootLoader.checkHeader(Binutils.bytes(kernel(which)));
        }
        MultibootLoader.checkHeader(Binutils.bytes(MultibootTestKernels.kludge(false, false)));
        assertFalse(SymbolTable.of(Binutils.bytes(MultibootTestKernels.elf32())).isEmpty());
    }
}
