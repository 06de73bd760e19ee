package dev.jkvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** Flat images placed by the header's address fields (Multiboot 0.6.96 §3.1.3). */
class MultibootKludgeLoadTest {
    private static final long LOAD_ADDRESS = 0x100000;

    private static long symbol(Path elf, String name) {
        Map<String, Binutils.NmSymbol> nm = Binutils.nm(elf);
        return nm.get(name).address();
    }

    private static void assertFilled(MarkedRam ram, long from, long to, byte value, String what) {
        byte[] expected = new byte[(int) (to - from)];
        Arrays.fill(expected, value);
        assertArrayEquals(expected, ram.memory.read(from, expected.length), what);
    }

    @Test
    void flatImageIsLoadedAtLoadAddrWithBssUpToBssEndAddr() {
        Path bin = MultibootTestKernels.kludge(false, false);
        Path elf = MultibootTestKernels.kludgeElf(false, false);
        byte[] image = Binutils.bytes(bin);
        try (MarkedRam ram = MarkedRam.mib(64)) {
            BootInfo info = MultibootLoader.load(image, ram.memory, "");
            long loadEnd = symbol(elf, "load_end");
            long bssEnd = symbol(elf, "bss_end");
            assertEquals(image.length, loadEnd - LOAD_ADDRESS, "objcopy output ends at load_end");
            assertArrayEquals(image, ram.memory.read(LOAD_ADDRESS, image.length));
            assertFilled(ram, loadEnd, bssEnd, (byte) 0, "bss zeroed up to bss_end_addr");
            assertFilled(ram, bssEnd, bssEnd + 64, MarkedRam.GARBAGE, "nothing written after bss_end_addr");
            assertEquals(symbol(elf, "_start"), info.entry());
            assertEquals(LOAD_ADDRESS, info.kernelStart());
            assertEquals(bssEnd, info.kernelEnd());
            assertTrue(info.symbols().isEmpty(), "a flat binary has no symbols");
        }
    }

    @Test
    void loadEndAddrZeroLoadsTheRestOfTheFile() {
        Path bin = MultibootTestKernels.kludge(true, false);
        Path elf = MultibootTestKernels.kludgeElf(true, false);
        byte[] image = Binutils.bytes(bin);
        try (MarkedRam ram = MarkedRam.mib(64)) {
            BootInfo info = MultibootLoader.load(image, ram.memory, "");
            assertArrayEquals(image, ram.memory.read(LOAD_ADDRESS, image.length));
            long bssEnd = symbol(elf, "bss_end");
            assertFilled(ram, LOAD_ADDRESS + image.length, bssEnd, (byte) 0, "bss zeroed after the file");
            assertEquals(bssEnd, info.kernelEnd());
        }
    }

    @Test
    void bssEndAddrZeroMeansNoBss() {
        Path bin = MultibootTestKernels.kludge(false, true);
        Path elf = MultibootTestKernels.kludgeElf(false, true);
        byte[] image = Binutils.bytes(bin);
        try (MarkedRam ram = MarkedRam.mib(64)) {
            BootInfo info = MultibootLoader.load(image, ram.memory, "");
            long loadEnd = symbol(elf, "load_end");
            assertArrayEquals(image, ram.memory.read(LOAD_ADDRESS, image.length));
            assertFilled(ram, loadEnd, loadEnd + 256, MarkedRam.GARBAGE, "no bss is zeroed");
            assertEquals(loadEnd, info.kernelEnd());
            assertEquals(symbol(elf, "_start"), info.entry());
        }
    }

    @Test
    void headerIsParsedFromTheFile() {
        Path elf = MultibootTestKernels.kludgeElf(false, false);
        MultibootHeader h = MultibootHeader.find("k", Binutils.bytes(MultibootTestKernels.kludge(false, false)));
        assertEquals(MultibootTestKernels.FLAGS_WITH_ADDRESSES, h.flags());
        assertEquals(symbol(elf, "mb_header"), h.headerAddr());
        assertEquals(symbol(elf, "load_start"), h.loadAddr());
        assertEquals(symbol(elf, "load_end"), h.loadEndAddr());
        assertEquals(symbol(elf, "bss_end"), h.bssEndAddr());
        assertEquals(symbol(elf, "_start"), h.entryAddr());
        assertEquals(symbol(elf, "mb_header") - LOAD_ADDRESS, h.fileOffset());
    }
}
