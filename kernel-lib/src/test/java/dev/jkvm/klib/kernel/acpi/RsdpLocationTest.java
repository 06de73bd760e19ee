package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.HostArena;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Where the RSDP is searched (ACPI 6.5 §5.2.5.1): the first KiB of the EBDA, whose real-mode
 * segment is the 16-bit word at 0x40E, then 0xE0000–0xFFFFF. The captured fixtures all keep it in
 * the BIOS area, so the EBDA path is tested here with hand-made memory.
 */
class RsdpLocationTest {
    private static final long MIB = 1 << 20;

    private static void putRsdp(MemorySegment memory, long at) {
        byte[] rsdp = new byte[20];
        System.arraycopy("RSD PTR ".getBytes(StandardCharsets.US_ASCII), 0, rsdp, 0, 8);
        rsdp[15] = 0; // revision 0: the 20-byte ACPI 1.0 structure
        int sum = 0;
        for (byte b : rsdp) {
            sum += b;
        }
        rsdp[8] = (byte) -sum;
        MemorySegment.copy(rsdp, 0, memory, ValueLayout.JAVA_BYTE, at, rsdp.length);
    }

    private static long find(MemorySegment memory) {
        PhysicalWindow.map(memory.address(), memory.byteSize());
        return Rsdp.find();
    }

    @Test
    void anRsdpInTheEbdaIsFoundAndWinsOverOneInTheBiosArea() {
        try (Arena arena = HostArena.ofConfined()) {
            MemorySegment memory = arena.allocate(MIB, 4096);
            memory.set(ValueLayout.JAVA_SHORT_UNALIGNED, 0x40E, (short) 0x9FC0);
            putRsdp(memory, 0x9FC00 + 0x3E0);
            putRsdp(memory, 0xF0000);
            assertEquals(0x9FC00 + 0x3E0, find(memory));
        }
    }

    @Test
    void withoutAnEbdaTheBiosAreaIsScanned() {
        try (Arena arena = HostArena.ofConfined()) {
            MemorySegment memory = arena.allocate(MIB, 4096);
            putRsdp(memory, 0x9FC00);
            putRsdp(memory, 0xFFFE0);
            assertEquals(0xFFFE0, find(memory), "segment 0: no EBDA, its memory is not scanned");
        }
    }

    @Test
    void onlyTheFirstKibOfTheEbdaIsScanned() {
        try (Arena arena = HostArena.ofConfined()) {
            MemorySegment memory = arena.allocate(MIB, 4096);
            memory.set(ValueLayout.JAVA_SHORT_UNALIGNED, 0x40E, (short) 0x9FC0);
            putRsdp(memory, 0x9FC00 + 1024);
            assertEquals(Rsdp.NOT_FOUND, find(memory));
        }
    }

    @Test
    void anEbdaReachingPastOneMibIsNotScanned() {
        try (Arena arena = HostArena.ofConfined()) {
            MemorySegment memory = arena.allocate(MIB + 4096, 4096);
            memory.set(ValueLayout.JAVA_SHORT_UNALIGNED, 0x40E, (short) 0xFFE0);
            putRsdp(memory, 0xFFE00 + 0x200 + 0x10);
            assertEquals(Rsdp.NOT_FOUND, find(memory), "0xFFE00 + 1 KiB ends past 0x100000");
        }
    }
}
