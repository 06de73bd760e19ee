package dev.jkvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Broken or unsuitable kernels are refused with one line that names the cause and the fix. */
class MultibootRefusalTest {

    static String refusal(Executable action) {
        MultibootException e = assertThrows(MultibootException.class, action);
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertEquals(null, e.getCause());
        return e.getMessage();
    }

    /**
     * The same refusal from the check the launcher makes before touching /dev/kvm and from a load
     * into 64 MiB, so every host gives the same verdict.
     */
    static String refusedEverywhere(byte[] image) {
        String early = refusal(() -> MultibootLoader.check("kernel.elf", image, 64 * MarkedRam.MIB));
        try (MarkedRam ram = MarkedRam.mib(64)) {
            String late = refusal(() -> MultibootLoader.load("kernel.elf", image, ram.memory, ""));
            assertEquals(early, late);
        }
        return early;
    }

    private static String refusedAtLoad(byte[] image, long ramMiB) {
        try (MarkedRam ram = MarkedRam.mib(ramMiB)) {
            return refusal(() -> MultibootLoader.load("kernel.elf", image, ram.memory, ""));
        }
    }

    private static int headerOffset(Path elf) {
        return (int) Binutils.section(elf, ".text").offset();
    }

    private static void putInt(byte[] b, int at, int v) {
        for (int i = 0; i < 4; i++) b[at + i] = (byte) (v >>> (8 * i));
    }

    @Test
    void badChecksum() {
        Path elf = MultibootTestKernels.elf32();
        byte[] image = Binutils.bytes(elf);
        int at = headerOffset(elf);
        image[at + 8] ^= 1;
        String m = refusedEverywhere(image);
        assertTrue(m.contains("bad checksum") && m.contains("0x" + Integer.toHexString(at)), m);
    }

    @Test
    void noHeader() {
        Path elf = MultibootTestKernels.elf32();
        byte[] image = Binutils.bytes(elf);
        putInt(image, headerOffset(elf), 0);
        String m = refusedEverywhere(image);
        assertTrue(m.contains("no multiboot header") && m.contains("first 8 KiB"), m);
    }

    @Test
    void headerBeyondTheFirst8KiB() {
        Path elf = MultibootTestKernels.lateHeader();
        int offset = (int) (Binutils.nm(elf).get("mb_header").address() - 0x100000 + headerOffset(elf));
        assertTrue(offset >= 8192, "the header really is late: " + offset);
        String m = refusedEverywhere(Binutils.bytes(elf));
        assertTrue(m.contains("beyond the first 8 KiB") && m.contains("0x" + Integer.toHexString(offset)), m);
    }

    @Test
    void unknownRequiredFlag() {
        Path elf = MultibootTestKernels.elf32();
        byte[] image = Binutils.bytes(elf);
        int at = headerOffset(elf);
        int flags = MultibootTestKernels.FLAGS | 1 << 3;
        putInt(image, at + 4, flags);
        putInt(image, at + 8, -(0x1BADB002 + flags));
        String m = refusedEverywhere(image);
        assertTrue(m.contains("flag bits [3]"), m);
    }

    @Test
    void videoModeRequestIsIgnoredSafely() {
        Path elf = MultibootTestKernels.elf32();
        byte[] image = Binutils.bytes(elf);
        int at = headerOffset(elf);
        int flags = MultibootTestKernels.FLAGS | MultibootHeader.FLAG_VIDEO_MODE;
        putInt(image, at + 4, flags);
        putInt(image, at + 8, -(0x1BADB002 + flags));
        try (MarkedRam ram = MarkedRam.mib(64)) {
            BootInfo info = MultibootLoader.load(image, ram.memory, "");
            assertEquals(Binutils.headerField(elf, "Entry point address"), info.entry());
            int mbiFlags = ram.memory.read32(info.mbiAddress());
            assertEquals(0, mbiFlags & (1 << 11 | 1 << 12), "no VBE or framebuffer info is claimed");
        }
    }

    @Test
    void neitherElfNorAddressFields() {
        String m = refusedEverywhere(Binutils.bytes(MultibootTestKernels.flatWithoutAddressFields()));
        assertTrue(m.startsWith("kernel.elf is not a multiboot kernel: no ELF header and no multiboot address fields (flag bit 16)"), m);
    }

    @Test
    void segmentBeyondRamNamesTheMemoryNeeded() {
        Path elf = MultibootTestKernels.linkedAt(0x8000000);
        long end = Binutils.loadSegments(elf).stream().mapToLong(s -> s.physicalAddress() + s.memorySize()).max().orElseThrow();
        long neededMiB = (end + (1 << 20) - 1) >> 20;
        MultibootLoader.checkHeader(Binutils.bytes(elf));
        String m = refusedAtLoad(Binutils.bytes(elf), 64);
        assertTrue(m.contains("outside guest RAM (64 MiB)"), m);
        assertTrue(m.contains("needs at least " + neededMiB + " MiB of guest memory; use --memory"), m);
        assertTrue(m.contains("ELF segment"), m);
        try (MarkedRam ram = MarkedRam.mib(neededMiB)) {
            MultibootLoader.load(Binutils.bytes(elf), ram.memory, "");
        }
    }

    @Test
    void segmentInTheBiosAcpiArea() {
        String m = refusedAtLoad(Binutils.bytes(MultibootTestKernels.linkedAt(0xE8000)), 64);
        assertTrue(m.contains("[0xe8000,") && m.contains("BIOS/ACPI area") && m.contains("1 MiB"), m);
    }

    @Test
    void truncatedSegment() {
        Path elf = MultibootTestKernels.elf32();
        List<Binutils.Segment> segments = Binutils.loadSegments(elf);
        Binutils.Segment last = segments.getLast();
        byte[] cut = Arrays.copyOf(Binutils.bytes(elf), (int) (last.offset() + last.fileSize() / 2));
        String m = refusedEverywhere(cut);
        assertTrue(m.contains("ELF segment " + (segments.size() - 1)) && m.contains("truncated"), m);
    }

    @Test
    void truncatedFlatImage() {
        byte[] image = Binutils.bytes(MultibootTestKernels.kludge(false, false));
        String m = refusedEverywhere(Arrays.copyOf(image, image.length - 8));
        assertTrue(m.contains("truncated"), m);
    }

    @Test
    void overlappingSegments() {
        Path elf = MultibootTestKernels.overlappingSegments();
        long overlapping = Binutils.loadSegments(elf).stream().filter(s -> s.physicalAddress() == 0x100010).count();
        assertEquals(1, overlapping, "ld placed .data over .text as asked");
        String m = refusedEverywhere(Binutils.bytes(elf));
        assertTrue(m.contains("overlaps") && m.contains("[0x100010,"), m);
    }

    @Test
    void elf64EntryAbove4GiB() {
        Path elf = MultibootTestKernels.elf64Above4GiB();
        long entry = Binutils.headerField(elf, "Entry point address");
        String m = refusedEverywhere(Binutils.bytes(elf));
        assertTrue(m.contains("entry point 0x" + Long.toHexString(entry)) && m.contains("4 GiB"), m);
    }

    @Test
    void commandLineTooLong() {
        String cmdline = "x".repeat(MultibootInfo.MAX_COMMAND_LINE + 1);
        try (MarkedRam ram = MarkedRam.mib(64)) {
            String m = refusal(() -> MultibootLoader.load(Binutils.bytes(MultibootTestKernels.elf32()), ram.memory, cmdline));
            assertEquals("command line too long: " + (MultibootInfo.MAX_COMMAND_LINE + 1) + " bytes, at most "
                    + MultibootInfo.MAX_COMMAND_LINE, m);
        }
    }

    @Test
    void truncatedSymbolTable() {
        Path elf = MultibootTestKernels.elf32();
        Binutils.Section symtab = Binutils.section(elf, ".symtab");
        byte[] image = Binutils.bytes(elf);
        // Keep every segment and the section header table, but point .symtab past the end of the file.
        long shoff = Binutils.headerField(elf, "Start of section headers");
        int sizeField = (int) (shoff + symtab.index() * 40L + 20);
        putInt(image, sizeField, image.length);
        String m = refusedEverywhere(image);
        assertTrue(m.contains("symbol table") && m.contains("truncated"), m);
    }

    @Test
    void guestRamWithoutTheBootInfoArea() {
        byte[] image = Binutils.bytes(MultibootTestKernels.elf32());
        try (MarkedRam ram = new MarkedRam(0x100000, 63 << 20)) {
            String m = refusal(() -> MultibootLoader.load(image, ram.memory, ""));
            assertTrue(m.contains("multiboot information area"), m);
            assertEquals(MarkedRam.GARBAGE, ram.memory.read8(0x100000), "refused before anything was written");
        }
    }

    @Test
    void relocatableObjectIsNotAKernel() {
        MultibootTestKernels.elf32();
        String m = refusedEverywhere(Binutils.bytes(Binutils.TOOLCHAIN.dir().resolve("k32.o")));
        assertTrue(m.contains("ET_REL") && m.contains("link"), m);
    }
}
