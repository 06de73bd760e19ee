package dev.jkvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.memory.GuestMemory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The multiboot information structure as a kernel reads it from guest memory, field by field at
 * the offsets of Multiboot 0.6.96 §3.3 (written out here, not taken from the loader's constants).
 */
class MultibootInfoTest {
    private static final long MIB = 1 << 20;
    private static final long GIB = 1L << 30;

    record Entry(long base, long length, int type) {}

    private static String cString(GuestMemory m, long address) {
        StringBuilder sb = new StringBuilder();
        for (long a = address; m.read8(a) != 0; a++) sb.append((char) m.read8(a));
        return sb.toString();
    }

    /** §3.3: entries are walked by their size field, which does not count itself. */
    private static List<Entry> memoryMap(GuestMemory m, long mbi) {
        long length = Integer.toUnsignedLong(m.read32(mbi + 44));
        long at = Integer.toUnsignedLong(m.read32(mbi + 48));
        List<Entry> list = new ArrayList<>();
        for (long p = at; p < at + length; p += m.read32(p) + 4) {
            assertEquals(20, m.read32(p), "entry size field");
            list.add(new Entry(m.read64(p + 4), m.read64(p + 12), m.read32(p + 20)));
        }
        return list;
    }

    private static BootInfo loadElf32(MarkedRam ram, String cmdline) {
        return MultibootLoader.load(Binutils.bytes(MultibootTestKernels.elf32()), ram.memory, cmdline);
    }

    @Test
    void flagsMemoryCommandLineAndLoaderName() {
        try (MarkedRam ram = MarkedRam.mib(64)) {
            BootInfo info = loadElf32(ram, "console=ttyS0 loglevel=7 ünïcode");
            GuestMemory m = ram.memory;
            long mbi = info.mbiAddress();
            int flags = m.read32(mbi);
            for (int bit : new int[] {0, 2, 3, 5, 6, 9}) assertTrue((flags & 1 << bit) != 0, "flags bit " + bit);
            assertEquals(0, flags & (1 << 1 | 1 << 4), "no boot device, no a.out symbols");
            assertEquals(639, m.read32(mbi + 4), "mem_lower: 640 KiB minus the EBDA");
            assertEquals((64 * MIB - MIB) / 1024, m.read32(mbi + 8), "mem_upper: RAM above 1 MiB");
            assertEquals(0, m.read32(mbi + 20), "no modules");
            long cmdline = Integer.toUnsignedLong(m.read32(mbi + 16));
            byte[] expected = "console=ttyS0 loglevel=7 ünïcode".getBytes(StandardCharsets.UTF_8);
            assertArrayEquals(expected, m.read(cmdline, expected.length));
            assertEquals(0, m.read8(cmdline + expected.length), "NUL-terminated");
            assertEquals("jkvm", cString(m, Integer.toUnsignedLong(m.read32(mbi + 64))));
            for (long p : new long[] {cmdline, Integer.toUnsignedLong(m.read32(mbi + 48)), Integer.toUnsignedLong(m.read32(mbi + 64))}) {
                assertTrue(p >= 0x9000 && p < 0x10000, "inside the boot-info area: " + Long.toHexString(p));
            }
        }
    }

    @Test
    void memoryMapOf64MiB() {
        try (MarkedRam ram = MarkedRam.mib(64)) {
            BootInfo info = loadElf32(ram, "");
            assertEquals(List.of(
                    new Entry(0, 0x9FC00, 1),
                    new Entry(0x9FC00, 0x400, 2),
                    new Entry(0xE0000, 0x20000, 2),
                    new Entry(0x100000, 63 * MIB, 1)), memoryMap(ram.memory, info.mbiAddress()));
        }
    }

    @Test
    void memoryMapWithRamAbove4GiB() {
        // The layout a VM with more than 3 GiB gets: low RAM up to the hole, the rest above 4 GiB.
        // Only the layout matters, so both parts are small.
        try (MarkedRam ram = new MarkedRam(0, 64 * MIB, 4 * GIB, 2 * MIB)) {
            BootInfo info = loadElf32(ram, "");
            List<Entry> map = memoryMap(ram.memory, info.mbiAddress());
            assertEquals(new Entry(0x100000, 63 * MIB, 1), map.get(3));
            assertEquals(new Entry(4 * GIB, 2 * MIB, 1), map.getLast());
            assertEquals(5, map.size());
            assertEquals((64 * MIB - MIB) / 1024, ram.memory.read32(info.mbiAddress() + 8), "mem_upper stops at the first hole");
        }
    }

    @Test
    void ramRunningIntoTheMmioHoleIsClipped() {
        try (MarkedRam ram = new MarkedRam(0, 64 * MIB, 3 * GIB - MIB, 2 * MIB)) {
            BootInfo info = loadElf32(ram, "");
            List<Entry> map = memoryMap(ram.memory, info.mbiAddress());
            assertEquals(new Entry(3 * GIB - MIB, MIB, 1), map.getLast(), "the half inside 3-4 GiB is not RAM to the guest");
        }
    }

    @Test
    void legacyVideoHoleInRamGivesTheSameMap() {
        try (MarkedRam ram = new MarkedRam(0, 0xA0000, 0x100000, 63 * MIB)) {
            BootInfo info = loadElf32(ram, "");
            assertEquals(639, ram.memory.read32(info.mbiAddress() + 4));
            assertEquals((63 * MIB) / 1024, ram.memory.read32(info.mbiAddress() + 8));
            assertEquals(new Entry(0x100000, 63 * MIB, 1), memoryMap(ram.memory, info.mbiAddress()).getLast());
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void elfSectionHeadersLetTheKernelFindItsOwnSymbols(boolean x86_64) {
        Path elf = x86_64 ? MultibootTestKernels.elf64() : MultibootTestKernels.elf32();
        byte[] image = Binutils.bytes(elf);
        try (MarkedRam ram = MarkedRam.mib(64)) {
            BootInfo info = MultibootLoader.load(image, ram.memory, "");
            GuestMemory m = ram.memory;
            long mbi = info.mbiAddress();
            assertTrue((m.read32(mbi) & 1 << 5) != 0, "flags bit 5");
            int num = m.read32(mbi + 28);
            int size = m.read32(mbi + 32);
            long addr = Integer.toUnsignedLong(m.read32(mbi + 36));
            int shndx = m.read32(mbi + 40);
            assertEquals(Binutils.headerField(elf, "Number of section headers"), num);
            assertEquals(Binutils.headerField(elf, "Size of section headers"), size);
            assertEquals(Binutils.headerField(elf, "Section header string table index"), shndx);
            assertEquals(0, addr % 4096, "page aligned");
            long segmentsEnd = Binutils.loadSegments(elf).stream().mapToLong(s -> s.physicalAddress() + s.memorySize()).max().orElseThrow();
            assertTrue(addr >= segmentsEnd, "after the kernel");

            Binutils.Section symtab = Binutils.section(elf, ".symtab");
            long symtabCopy = sectionAddress(m, addr, size, symtab.index(), x86_64);
            assertNotEquals(0, symtabCopy, "the symbol table was placed in memory");
            assertArrayEquals(Arrays.copyOfRange(image, (int) symtab.offset(), (int) (symtab.offset() + symtab.size())),
                    m.read(symtabCopy, (int) symtab.size()));
            assertTrue(info.kernelEnd() >= symtabCopy + symtab.size(), "kernelEnd covers the copies");

            // What a kernel would do: walk its symbols through the copies alone.
            int link = m.read32(addr + (long) symtab.index() * size + (x86_64 ? 40 : 24));
            long strtabCopy = sectionAddress(m, addr, size, link, x86_64);
            long start = findSymbol(m, symtabCopy, symtab.size(), strtabCopy, "_start", x86_64);
            assertEquals(Binutils.nm(elf).get("_start").address(), start);
        }
    }

    private static long sectionAddress(GuestMemory m, long table, int entrySize, int index, boolean x86_64) {
        long header = table + (long) index * entrySize;
        return x86_64 ? m.read64(header + 16) : Integer.toUnsignedLong(m.read32(header + 12));
    }

    private static long findSymbol(GuestMemory m, long symtab, long bytes, long strtab, String name, boolean x86_64) {
        int entry = x86_64 ? 24 : 16;
        for (long p = symtab; p < symtab + bytes; p += entry) {
            if (cString(m, strtab + m.read32(p)).equals(name)) {
                return x86_64 ? m.read64(p + 8) : Integer.toUnsignedLong(m.read32(p + 4));
            }
        }
        throw new AssertionError(name + " not found in guest memory");
    }

    @Test
    void sectionHeadersAreLeftOutWhenRamEndsRightAfterTheKernel() {
        Path elf = MultibootTestKernels.elf32();
        long segmentsEnd = Binutils.loadSegments(elf).stream().mapToLong(s -> s.physicalAddress() + s.memorySize()).max().orElseThrow();
        try (MarkedRam ram = new MarkedRam(0, segmentsEnd)) {
            BootInfo info = MultibootLoader.load(Binutils.bytes(elf), ram.memory, "");
            assertEquals(0, ram.memory.read32(info.mbiAddress()) & (1 << 5), "flags bit 5 clear");
            assertEquals(segmentsEnd, info.kernelEnd());
            assertEquals((segmentsEnd - MIB) / 1024, ram.memory.read32(info.mbiAddress() + 8));
            assertTrue(!info.symbols().isEmpty(), "the VMM still has the symbols");
        }
    }

    @Test
    void strippedKernelLoadsWithoutSymbols() {
        Path elf = MultibootTestKernels.stripped();
        try (MarkedRam ram = MarkedRam.mib(64)) {
            BootInfo info = MultibootLoader.load(Binutils.bytes(elf), ram.memory, "");
            assertTrue(info.symbols().isEmpty());
            assertEquals(Binutils.headerField(elf, "Entry point address"), info.entry());
            assertEquals(Binutils.headerField(elf, "Number of section headers"), ram.memory.read32(info.mbiAddress() + 28));
        }
    }

    @Test
    void flatKernelGetsNoElfSectionHeaders() {
        try (MarkedRam ram = MarkedRam.mib(64)) {
            BootInfo info = MultibootLoader.load(Binutils.bytes(MultibootTestKernels.kludge(false, false)), ram.memory, "x");
            assertEquals(0, ram.memory.read32(info.mbiAddress()) & (1 << 5));
            assertEquals("x", cString(ram.memory, Integer.toUnsignedLong(ram.memory.read32(info.mbiAddress() + 16))));
        }
    }
}
