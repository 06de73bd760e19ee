package dev.jkvm.klib.kernel.mm;

import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.HostArena;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The boot allocator's arithmetic on the host: page-aligned start, each allocation aligned and
 * right after the last, the exact end of memory (the last byte may be handed out, one more is a
 * panic), stacks above a recorded guard page, and the guard list's capacity. Addresses only:
 * nothing here touches the memory handed out but the guard list.
 */
class BootAllocatorTest {
    private static final long GUARD_LIST = 4096 * 8L;

    private long start;
    private int panics;

    @BeforeEach
    void setUp() {
        MemorySegment ram = HostArena.global().allocate(1 << 20, 4096).fill((byte) 0xA5);
        start = ram.address();
        Asm.hostDefine(MmPanic.SYMBOL, args -> {
            panics++;
            throw new IllegalStateException("panic");
        });
        Console.hostClear();
    }

    @Test
    void startsAtAPageBoundaryAfterTheGuardListAndAlignsEachAllocation() {
        BootAllocator.init(start + 1, start + (1 << 20));
        assertEquals(start + 4096 + GUARD_LIST, BootAllocator.next(), "page-aligned start, then the guard list");
        long first = BootAllocator.allocate(3, 1);
        assertEquals(start + 4096 + GUARD_LIST, first);
        assertEquals(first + 8, BootAllocator.allocate(8, 8), "aligned up to 8");
        assertEquals(first + 16, BootAllocator.next());
        assertEquals(first + 64, BootAllocator.allocate(1, 64));
        assertEquals(first + 4096, BootAllocator.pages(2));
        assertEquals(first + 3 * 4096, BootAllocator.next());
        assertEquals(0, BootAllocator.guardCount());
    }

    @Test
    void theLastByteMayBeHandedOutAndOneMoreIsAPanic() {
        long end = start + GUARD_LIST + 100;
        BootAllocator.init(start, end);
        long at = BootAllocator.allocate(100, 1);
        assertEquals(end, at + 100);
        assertEquals(0, panics);
        assertThrows(IllegalStateException.class, () -> BootAllocator.allocate(1, 1));
        assertEquals("boot allocator: out of memory (give the VM more RAM)\n", Console.hostOutput());
        assertThrows(IllegalStateException.class, () -> BootAllocator.allocate(Long.MAX_VALUE, 1),
                "a size that wraps around is no allocation either");
        assertEquals(2, panics);
    }

    @Test
    void aStackSitsAboveItsGuardPageWhichIsRecorded() {
        BootAllocator.init(start, start + (1 << 20));
        long base = BootAllocator.next();
        long top = BootAllocator.stack(5000);
        assertEquals(1, BootAllocator.guardCount());
        assertEquals(base, BootAllocator.guard(0), "the guard is the page right below the stack");
        assertEquals(base + 4096 + 8192, top, "5000 bytes round up to two pages");
        assertEquals(top, BootAllocator.next());
        long second = BootAllocator.stack(4096);
        assertEquals(top, BootAllocator.guard(1));
        assertEquals(top + 8192, second);
        assertEquals(2, BootAllocator.guardCount());
    }

    @Test
    void theGuardListKeepsAtMostItsCapacity() {
        BootAllocator.init(start, start + (1 << 20));
        for (int i = 0; i < 4096; i++) {
            BootAllocator.addGuard(i * 4096L);
        }
        assertEquals(4096, BootAllocator.guardCount());
        BootAllocator.addGuard(0x1234000);
        assertEquals(4096, BootAllocator.guardCount(), "full: the guard is not recorded");
        assertEquals(4095 * 4096L, BootAllocator.guard(4095));
        BootAllocator.init(start, start + (1 << 20));
        assertEquals(0, BootAllocator.guardCount(), "init forgets the guards");
    }

    @Test
    void alignUp() {
        assertEquals(0, BootAllocator.alignUp(0, 4096));
        assertEquals(4096, BootAllocator.alignUp(1, 4096));
        assertEquals(4096, BootAllocator.alignUp(4096, 4096));
        assertEquals(8192, BootAllocator.alignUp(4097, 4096));
        assertEquals(24, BootAllocator.alignUp(17, 8));
    }
}
