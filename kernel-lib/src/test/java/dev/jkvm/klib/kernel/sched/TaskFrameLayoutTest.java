package dev.jkvm.klib.kernel.sched;

import dev.jkvm.klib.rt.HostArena;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * TaskFrame.build on the host: the frame's words and its place below the stack top, over a stack
 * full of garbage as a recycled stack is. TaskFrameTest checks the same frame by switching to it
 * on a host core, which PIT cannot see (native code runs the class files on disk).
 */
class TaskFrameLayoutTest {
    private static final byte GARBAGE = (byte) 0xA5;

    @Test
    void theFrameSitsBelowTheAlignedTopWithEveryWordSet() {
        try (Arena arena = HostArena.ofConfined()) {
            MemorySegment stack = arena.allocate(512, 64).fill(GARBAGE);
            for (int misalignment = 0; misalignment < 16; misalignment += 5) {
                stack.fill(GARBAGE);
                long top = stack.address() + 256 + misalignment;
                long alignedTop = stack.address() + 256;
                long rsp = TaskFrame.build(top, 0x1111L, 0x2222L, 0x3333L, 0x4444L);
                assertEquals(alignedTop - TaskFrame.SIZE, rsp, "misalignment " + misalignment);
                assertEquals(0L, Memory.load64(rsp + TaskFrame.R15));
                assertEquals(0L, Memory.load64(rsp + TaskFrame.R14));
                assertEquals(0x4444L, Memory.load64(rsp + TaskFrame.R13), "r13 = task");
                assertEquals(0x3333L, Memory.load64(rsp + TaskFrame.R12), "r12 = argument");
                assertEquals(0x2222L, Memory.load64(rsp + TaskFrame.RBX), "rbx = entry");
                assertEquals(0L, Memory.load64(rsp + TaskFrame.RBP), "rbp ends the frame chain");
                assertEquals(0x1111L, Memory.load64(rsp + TaskFrame.RETURN_ADDRESS), "returns into the trampoline");
                assertEquals(0L, Memory.load64(rsp + TaskFrame.TRAMPOLINE_RETURN));
                for (long i = 0; i < 256 - TaskFrame.SIZE; i++) {
                    assertEquals(GARBAGE, stack.get(ValueLayout.JAVA_BYTE, i), "below the frame, byte " + i);
                }
                for (long i = 256; i < 512; i++) {
                    assertEquals(GARBAGE, stack.get(ValueLayout.JAVA_BYTE, i), "at or above the top, byte " + i);
                }
            }
        }
    }
}
