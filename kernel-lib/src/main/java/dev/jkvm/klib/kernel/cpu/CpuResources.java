package dev.jkvm.klib.kernel.cpu;

import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.mm.KernelLayout;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Memory;

/**
 * Everything one CPU owns, allocated by the boot CPU before the page tables are built (so their
 * guard pages end up unmapped): the per-CPU area (a copy of the compiled template followed by
 * the zeroed dynamic region of PerCpuVariables), a 64 KiB kernel stack and three IST stacks,
 * each above a guard page, and a TSS pointing at them. The boot CPU comes first, and with it
 * PerCpuVariables is set up, so kernel code may register variables from then on.
 */
public final class CpuResources {
    private CpuResources() {
    }

    public static final long KERNEL_STACK = 64 * 1024;
    public static final long IST_STACK = 8 * 1024;

    /** Returns the TSS; the APIC ID, area and stack top go to the CPU's CpuRecord. */
    public static long prepare(int cpu, int apicId, boolean bootCpu) {
        long area;
        long stackTop;
        long staticBytes = KernelLayout.get(KernelLayout.PER_CPU_TEMPLATE_SIZE);
        if (bootCpu) {
            // Its area is in bss, reserved with the dynamic region by build.BootEntry.
            area = KernelLayout.get(KernelLayout.BSP_PER_CPU);
            stackTop = KernelLayout.get(KernelLayout.BSP_STACK_TOP);
            PerCpuVariables.init(BootAllocator.allocate(PerCpuVariables.STATE_SIZE, PerCpuArea.ALIGNMENT),
                    staticBytes, PerCpuArea.DYNAMIC_BYTES);
        } else {
            area = BootAllocator.allocate(BootAllocator.alignUp(staticBytes + PerCpuArea.DYNAMIC_BYTES,
                    PerCpuArea.ALIGNMENT), PerCpuArea.ALIGNMENT);
            Asm.call("kernel_memcpy", area, KernelLayout.get(KernelLayout.PER_CPU_TEMPLATE), staticBytes);
            stackTop = BootAllocator.stack(KERNEL_STACK);
        }
        Asm.call("kernel_memzero", area + staticBytes, PerCpuArea.DYNAMIC_BYTES);
        long doubleFault = BootAllocator.stack(IST_STACK);
        long nmi = BootAllocator.stack(IST_STACK);
        long machineCheck = BootAllocator.stack(IST_STACK);
        long tss = BootAllocator.allocate(Tss.SIZE, 128);
        Tss.format(tss, stackTop, doubleFault, nmi, machineCheck);
        PerCpuArea.initialize(area, cpu, apicId, stackTop, tss);
        CpuRecord.set(cpu, apicId, area, stackTop);
        return tss;
    }

    /**
     * Gives every enabled CPU a console line buffer (a per-CPU variable) and turns line buffering
     * on (console.Log). Call once every CPU's area exists and before any AP runs.
     */
    public static void bufferConsoleLines(int cpuCount, long enabledMask) {
        long offset = PerCpuVariables.register(Log.LINE_BUFFER_SIZE, PerCpuArea.ALIGNMENT);
        if (offset == 0) {
            return;
        }
        for (int cpu = 0; cpu < cpuCount; cpu++) {
            if (CpuMask.contains(enabledMask, cpu)) {
                long buffer = PerCpuVariables.of(cpu, offset);
                Memory.store32(buffer, 0);
                Memory.store64(CpuRecord.area(cpu) + PerCpuArea.CONSOLE_LINE, buffer);
            }
        }
        Log.bufferLines();
    }
}
