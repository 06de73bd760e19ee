package dev.jkvm.klib.kernel.cpu;

import dev.jkvm.klib.kernel.mm.HostMemory;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.mm.KernelLayout;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.HostAddressSpace;
import dev.jkvm.klib.rt.HostArena;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What CpuResources.prepare gives a CPU, from garbage-filled boot memory: an AP's area is a copy
 * of the per-CPU template with a zeroed dynamic region and the reserved line filled in, its kernel
 * stack and the three IST stacks each above a recorded guard page, its TSS pointing at them, and
 * its CpuRecord; the boot CPU keeps the area and stack the image reserved for it and sets up the
 * per-CPU variables' region right after the template.
 */
class CpuResourcesTest {
    private static final long TEMPLATE_SIZE = 128;

    private MemorySegment template;
    private MemorySegment bspArea;

    @BeforeEach
    void setUp() {
        MemorySegment ram = HostArena.global().allocate(1 << 20, 4096).fill((byte) 0xA5);
        BootAllocator.init(ram.address(), ram.address() + ram.byteSize());
        HostMemory.defineRoutines();
        template = HostArena.global().allocate(TEMPLATE_SIZE, 64);
        for (int i = 0; i < TEMPLATE_SIZE; i++) {
            template.set(ValueLayout.JAVA_BYTE, i, (byte) (i + 1));
        }
        bspArea = HostArena.global().allocate(TEMPLATE_SIZE + PerCpuArea.DYNAMIC_BYTES, 64).fill((byte) 0xA5);
        MemorySegment layout = HostArena.global().allocate(KernelLayout.ENTRIES * 8L, 8).fill((byte) 0);
        layout.setAtIndex(ValueLayout.JAVA_LONG, KernelLayout.PER_CPU_TEMPLATE, template.address());
        layout.setAtIndex(ValueLayout.JAVA_LONG, KernelLayout.PER_CPU_TEMPLATE_SIZE, TEMPLATE_SIZE);
        layout.setAtIndex(ValueLayout.JAVA_LONG, KernelLayout.BSP_PER_CPU, bspArea.address());
        layout.setAtIndex(ValueLayout.JAVA_LONG, KernelLayout.BSP_STACK_TOP, 0x7777_0000L);
        long layoutAddress = layout.address();
        Asm.hostDefine(KernelLayout.SYMBOL, args -> layoutAddress);
        CpuRecord.allocate(4);
    }

    private static void assertTss(long tss, long rsp0, int firstGuard) {
        assertEquals(rsp0, Memory.load64(tss + 4), "RSP0: the kernel stack");
        for (int ist = 1; ist <= 3; ist++) {
            long top = Memory.load64(tss + 36 + (ist - 1) * 8L);
            long guard = BootAllocator.guard(firstGuard + ist - 1);
            assertEquals(guard + 4096 + CpuResources.IST_STACK, top, "IST" + ist + " above its own guard page");
        }
        assertEquals(0, tss & 127, "TSS aligned to 128");
    }

    @Test
    void anApGetsATemplateCopyStacksAboveGuardsATssAndItsRecord() {
        int guardsBefore = BootAllocator.guardCount();
        long tss = CpuResources.prepare(2, 9, false);

        long area = CpuRecord.area(2);
        assertEquals(0, area & (PerCpuArea.ALIGNMENT - 1));
        for (int i = PerCpuArea.RESERVED; i < TEMPLATE_SIZE; i++) {
            assertEquals((byte) (i + 1), Memory.load8(area + i), "template byte " + i);
        }
        for (long i = TEMPLATE_SIZE; i < TEMPLATE_SIZE + PerCpuArea.DYNAMIC_BYTES; i += 8) {
            assertEquals(0, Memory.load64(area + i), "dynamic region zeroed at " + i);
        }
        assertEquals(area, Memory.load64(area + PerCpuArea.SELF));
        assertEquals(2, Memory.load32(area + PerCpuArea.CPU_INDEX));
        assertEquals(9, PerCpuArea.apicId(area));
        assertEquals(tss, Memory.load64(area + PerCpuArea.TSS));
        long stackTop = CpuRecord.stackTop(2);
        assertEquals(stackTop, Memory.load64(area + PerCpuArea.STACK_TOP));
        assertEquals(9, CpuRecord.apicId(2));
        assertEquals(4, BootAllocator.guardCount() - guardsBefore, "kernel stack and three IST stacks");
        assertEquals(BootAllocator.guard(guardsBefore) + 4096 + CpuResources.KERNEL_STACK, stackTop);
        assertTss(tss, stackTop, guardsBefore + 1);
    }

    @Test
    void theBootCpuKeepsItsImageAreaAndStackAndOpensThePerCpuRegion() {
        int guardsBefore = BootAllocator.guardCount();
        long tss = CpuResources.prepare(0, 0, true);

        assertEquals(bspArea.address(), CpuRecord.area(0));
        assertEquals(0x7777_0000L, CpuRecord.stackTop(0));
        assertEquals(0x7777_0000L, Memory.load64(bspArea.address() + PerCpuArea.STACK_TOP));
        assertEquals(TEMPLATE_SIZE, PerCpuVariables.regionStart());
        assertEquals(PerCpuArea.DYNAMIC_BYTES, PerCpuVariables.capacity());
        assertEquals(0, PerCpuVariables.used());
        for (long i = TEMPLATE_SIZE; i < TEMPLATE_SIZE + PerCpuArea.DYNAMIC_BYTES; i += 8) {
            assertEquals(0, Memory.load64(bspArea.address() + i), "dynamic region zeroed at " + i);
        }
        assertEquals(0xA5A5A5A5A5A5A5A5L, Memory.load64(bspArea.address() + PerCpuArea.RESERVED),
                "the image's own template copy is left alone");
        assertEquals(3, BootAllocator.guardCount() - guardsBefore, "only the three IST stacks");
        assertTss(tss, 0x7777_0000L, guardsBefore);
    }
}
