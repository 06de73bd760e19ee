package dev.jkvm.klib.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jkvm.klib.rt.HostArena;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MemoryBlockTest {
    /** Every length up to a few unrolled iterations: exactly the block is cleared, not a byte around it. */
    @ParameterizedTest
    @ValueSource(longs = {0, 8, 16, 24, 32, 40, 56, 64, 72, 448, 512})
    void zeroesExactlyTheBlock(long bytes) {
        try (Arena arena = HostArena.ofConfined()) {
            MemorySegment memory = arena.allocate(bytes + 16, 8);
            memory.fill((byte) 0x5A);
            MemoryBlock.zero(memory.address() + 8, bytes);
            for (long i = 0; i < bytes + 16; i++) {
                byte expected = i >= 8 && i < 8 + bytes ? 0 : (byte) 0x5A;
                assertEquals(expected, memory.get(ValueLayout.JAVA_BYTE, i), "byte " + i + " of a " + bytes + "-byte block");
            }
        }
    }
}
