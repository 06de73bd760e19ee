package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.memory.GuestRam;
import static dev.jkvm.vmm.boot.MultibootRefusalTest.refusal;
import static dev.jkvm.vmm.boot.MultibootRefusalTest.refusedEverywhere;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Optional;

import org.junit.jupiter.api.Test;

/**
 * Mutants of real kernels, one per way an attacker or a broken tool damaged a file in issue 15:
 * each is refused with its own true one-line reason, by the check the launcher makes before it
 * opens /dev/kvm and by the loader alike (never an unchecked exception, never a load).
 */
class HostileKernelTest {
    private static final long MIB = MarkedRam.MIB;

    private static ElfMutant elf32() { return new ElfMutant(MultibootTestKernels.elf32()); }
    private static ElfMutant elf64() { return new ElfMutant(MultibootTestKernels.elf64()); }

    private static void assertContains(String message, String... parts) {
        for (String p : parts) assertTrue(message.contains(p), "'" + p + "' missing in: " + message);
    }

    // --- Section header counts that wrap when multiplied ------------------------------------

    @Test
    void extendedSectionCountThatWrapsTheTableLength() {
        for (long count : new long[] {1L << 62, (1L << 58) + 1}) {
            ElfMutant m = elf64().shnum(0);
            m.shSize(0, count);
            String msg = refusedEverywhere(m.bytes());
            assertContains(msg, "section header table", "has " + Long.toUnsignedString(count) + " entries of 64 bytes",
                    "fit before the end of the file");
        }
    }

    @Test
    void extendedSectionCountThroughTheAoutKludgePath() {
        ElfMutant m = new ElfMutant(MultibootTestKernels.kludgeElf(false, false)).shnum(0);
        m.shSize(0, 0xFFFF_FFFFL);
        String msg = refusedEverywhere(m.bytes());
        assertContains(msg, "section header table", "has 4294967295 entries of 40 bytes");
    }

    @Test
    void noBitsStringTableAtAHugeOffset() {
        ElfMutant m = elf64();
        int strtab = m.section(".strtab");
        m.shType(strtab, 8).shOffset(strtab, -256);
        String msg = refusedEverywhere(m.bytes());
        assertContains(msg, "section " + strtab + " as its string table", "type 8, not SHT_STRTAB", "strip");
    }

    // --- Program headers ---------------------------------------------------------------------

    @Test
    void memorySizeOf2To63IsTooLargeNotSmallerThanTheFileSize() {
        ElfMutant m = elf64();
        m.pMemsz(2, 1L << 63);
        String msg = refusedEverywhere(m.bytes());
        assertFalse(msg.contains("p_filesz"), msg);
        assertContains(msg, "ELF segment 2", "[0x101000, 0x8000000000101000)", "52-bit physical address space");
    }

    @Test
    void bssThatWouldWrapOverTheEntrySegmentIsNotLoaded() {
        ElfMutant m = elf64();
        // The case: 0x101000 + (2^63-1) is negative as a signed long, so an overlap test
        // that compared ends as signed numbers let it through and the bss was never zeroed.
        m.pMemsz(2, Long.MAX_VALUE);
        assertContains(refusedEverywhere(m.bytes()), "ELF segment 2 [0x101000, 0x8000000000100fff)", "52-bit physical address space");
        m.pMemsz(2, -0x1000L);
        assertContains(refusedEverywhere(m.bytes()), "ELF segment 2 at 0x101000 with size 0xfffffffffffff000",
                "wraps past the end of the 64-bit address space");
    }

    @Test
    void segmentWrapping2To64() {
        ElfMutant m = elf64();
        m.pPaddr(2, -0x1000L);
        String msg = refusedEverywhere(m.bytes());
        assertContains(msg, "ELF segment 2 at 0xfffffffffffff000", "wraps past the end of the 64-bit address space");
    }

    @Test
    void elf32SegmentWrapping2To32() {
        ElfMutant m = elf32();
        m.pMemsz(2, 0xFFFF_FFFFL);
        String msg = refusedEverywhere(m.bytes());
        assertContains(msg, "ELF segment 2 [0x101000, 0x100100fff)", "beyond 4 GiB, the end of an ELF32 kernel's address space");
    }

    @Test
    void aFourGiBBssReachesThePciHole() {
        ElfMutant m = elf64();
        m.pMemsz(2, 4L << 30);
        String msg = refusedEverywhere(m.bytes());
        assertContains(msg, "ELF segment 2 [0x101000, 0x100101000)", "overlaps the I/O APIC registers");
    }

    @Test
    void onlyTheElfHeaderPageIsLoadable() {
        ElfMutant m = elf32();
        assertEquals(0xFF000, m.pPaddr(0), "ld's header page");
        m.u32(m.programHeader(1), 0).u32(m.programHeader(2), 0); // PT_NULL: only PT_LOAD 0, at file offset 0, is left
        String msg = refusedEverywhere(m.bytes());
        assertContains(msg, "the only loadable segment, ELF segment 0 [0xff000, 0xff094)", "holds just the ELF headers",
                "not the entry point 0x10000c");
        assertFalse(msg.contains("no loadable segment"), msg);
        // With the entry inside it, it is the kernel, and it lies in the BIOS/ACPI area.
        m.u32(24, 0xFF010);
        assertContains(refusedEverywhere(m.bytes()), "ELF segment 0 [0xff000, 0xff094) overlaps the BIOS/ACPI area");
    }

    @Test
    void dataEncodingZeroIsNotBigEndian() {
        String msg = refusedEverywhere(elf32().u8(5, 0).bytes());
        assertContains(msg, "unknown ELF data encoding 0", "damaged");
        assertFalse(msg.contains("big-endian"), msg);
        assertContains(refusedEverywhere(elf32().u8(5, 2).bytes()), "big-endian");
    }

    // --- Placement, decided before a VM exists -------------------------------------------------

    @Test
    void segmentInTheVgaWindow() {
        String msg = refusedEverywhere(Binutils.bytes(MultibootTestKernels.linkedAt(0xB8000)));
        assertContains(msg, "[0xb8000,", "overlaps the VGA and option ROM window (not RAM on a PC) [0xa0000, 0xe0000)", "1 MiB");
    }

    @Test
    void segmentInTheAcpiArea() {
        String msg = refusedEverywhere(Binutils.bytes(MultibootTestKernels.linkedAt(0xF0000)));
        assertContains(msg, "overlaps the BIOS/ACPI area holding the VM's ACPI tables [0xe0000, 0x100000)");
    }

    @Test
    void segmentOverTheBootInformation() {
        String msg = refusedEverywhere(Binutils.bytes(MultibootTestKernels.linkedAt(0xA000)));
        assertContains(msg, "overlaps the multiboot information area the VM writes [0x9000, 0x10000)");
    }

    @Test
    void segmentInThePciHole() {
        String msg = refusedEverywhere(Binutils.bytes(MultibootTestKernels.linkedAt(0xC0000000L)));
        assertContains(msg, "overlaps the PCI/MMIO hole (no RAM) [0xc0000000, 0x100000000)", "below 3 GiB");
    }

    @Test
    void segmentOnTheIoApicPage() {
        String msg = refusedEverywhere(Binutils.bytes(MultibootTestKernels.linkedAt(0xFEC00000L)));
        assertContains(msg, "overlaps the I/O APIC registers [0xfec00000, 0xfec01000)");
    }

    @Test
    void segmentOnTheLocalApicPage() {
        String msg = refusedEverywhere(Binutils.bytes(MultibootTestKernels.linkedAt(0xFEE00000L)));
        assertContains(msg, "overlaps the local APIC registers [0xfee00000, 0xfee01000)");
    }

    @Test
    void segmentAboveRamIsRefusedBeforeAnyVmExists() {
        byte[] image = Binutils.bytes(MultibootTestKernels.linkedAt(0x8000000));
        String msg = refusal(() -> MultibootLoader.check("kernel.elf", image, 64 * MIB));
        assertContains(msg, "lies outside guest RAM (64 MiB)", "needs at least 129 MiB of guest memory; use --memory");
        MultibootLoader.check("kernel.elf", image, 129 * MIB);
    }

    @Test
    void absurdMemorySizesGiveAVerdictNotAnArithmeticError() {
        byte[] image = Binutils.bytes(MultibootTestKernels.elf32());
        MultibootLoader.check("kernel.elf", image, Long.MAX_VALUE);
        String msg = refusal(() -> MultibootLoader.check("kernel.elf", image, 0));
        assertContains(msg, "lies outside guest RAM (0 MiB)");
    }

    @Test
    void placementVerdictUsesTheRamLayoutTheVmAllocates() {
        for (long size : new long[] {2 * MIB, 64 * MIB + 1, 3L << 30, (3L << 30) + 4096, 5L << 30}) {
            try (GuestRam ram = GuestRam.allocate(size)) {
                assertEquals(RamRange.of(ram.memory()), RamRange.of(size), "RAM of " + size + " bytes");
            }
        }
    }

    // --- Symbol tables ---------------------------------------------------------------------------

    @Test
    void symbolTableLinkPastTheLastSection() {
        ElfMutant m = elf32();
        int symtab = m.section(".symtab");
        m.shLink(symtab, 99);
        String msg = refusedEverywhere(m.bytes());
        assertContains(msg, "symbol table (section " + symtab + ") names string table section 99", "sections 1 to",
                "strip --strip-all");
    }

    @Test
    void symbolNameWithoutNul() {
        ElfMutant m = elf32();
        int strtab = m.section(".strtab");
        m.u8((int) (m.shOffset(strtab) + m.shSize(strtab) - 1), 'x');
        String msg = refusedEverywhere(m.bytes());
        assertContains(msg, "has no terminating NUL before the end of its string table (section " + strtab + ")");
    }

    @Test
    void symbolNameOutsideItsStringTable() {
        ElfMutant m = elf32();
        m.symbols(3, i -> 1000, new byte[] {0, 'a', 0});
        assertContains(refusedEverywhere(m.bytes()), "symbol 0's name at string offset 0x3e8 lies outside its string table");
    }

    @Test
    void oneHundredThousandSymbolsNamingOneLongStringAreRefusedQuickly() {
        byte[] strings = new byte[100_002];
        Arrays.fill(strings, 1, 100_001, (byte) 'a');
        ElfMutant m = elf32();
        m.symbols(100_000, i -> 1, strings);
        String msg = refusedEverywhere(m.bytes());
        assertContains(msg, "symbol 0's name is longer than 4096 bytes", "strip");
    }

    @Test
    void distinctLongNamesAreBoundedInTotal() {
        // 20,000 distinct names of about 4,000 bytes each (100 suffixes of each of 200 runs of
        // 4,000 letters): about 80 MB if every one were decoded.
        int run = 4001;
        byte[] strings = new byte[1 + 200 * run];
        for (int r = 0; r < 200; r++) Arrays.fill(strings, 1 + r * run, r * run + run, (byte) 'a');
        ElfMutant m = elf64();
        m.symbols(20_000, i -> 1 + (i % 200) * run + i / 200, strings);
        String msg = refusedEverywhere(m.bytes());
        assertContains(msg, "names adding up to more than 64 MiB");
    }

    @Test
    void tooManySymbols() {
        ElfMutant m = elf32();
        m.symbols(SymbolTable.MAX_SYMBOLS + 1, i -> 1, new byte[] {0, 'a', 0});
        assertContains(refusedEverywhere(m.bytes()), "has " + (SymbolTable.MAX_SYMBOLS + 1) + " entries, more than the "
                + SymbolTable.MAX_SYMBOLS);
    }

    @Test
    void manySymbolsSharingOneNameLoad() {
        ElfMutant m = elf32();
        m.symbols(100_000, i -> 1, new byte[] {0, 'f', 'n', 0});
        byte[] image = m.bytes();
        MultibootLoader.check("kernel.elf", image, 64 * MIB);
        SymbolTable table = SymbolTable.of(image);
        assertEquals(100_000, table.size());
        assertEquals(Optional.of(0x100000L), table.address("fn"));
        assertEquals("fn+0x0", table.symbolize(0x100000 + 500));
    }
}
