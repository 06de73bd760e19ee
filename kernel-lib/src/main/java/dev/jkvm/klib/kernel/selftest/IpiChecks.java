package dev.jkvm.klib.kernel.selftest;

import dev.jkvm.klib.kernel.smp.IpiHandlers;
import dev.jkvm.klib.kernel.smp.TlbShootdown;
import dev.jkvm.klib.kernel.smp.IpiReason;
import dev.jkvm.klib.kernel.smp.IpiMailbox;
import dev.jkvm.klib.kernel.smp.CallFunction;
import dev.jkvm.klib.kernel.smp.SmpState;
import dev.jkvm.klib.kernel.cpu.CpuRecord;
import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.mm.PageTables;
import dev.jkvm.klib.kernel.time.Delay;
import dev.jkvm.klib.kernel.trap.Vectors;
import dev.jkvm.klib.kernel.sync.InterruptFlag;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * In-guest checks of the IPI paths, run by the boot CPU with every online AP idle: reschedule,
 * call-function on one CPU and on many, the timer forwarded from the boot CPU's APIC timer, and
 * a TLB shootdown that changes a live mapping. Each prints "name: passed/total ok" and returns
 * whether it passed.
 */
public final class IpiChecks {
    private IpiChecks() {
    }

    private static final long WAIT_US = 5000000;
    /** A virtual address outside the identity map (PML4 slot 1), used only by the shootdown test. */
    public static final long TEST_VA = 1L << 39;
    private static final long OLD_VALUE = 0x01D0_01D0_01D0_01D0L;
    private static final long NEW_VALUE = 0x0E00_0E00_0E00_0E00L;

    private static int others() {
        return CpuMask.count(CpuRecord.onlineMask()) - 1;
    }

    private static void result(int passed, int total) {
        Log.dec(passed);
        Console.print("/");
        Log.dec(total);
        if (passed == total) {
            Console.print(" ok\n");
        } else {
            Console.print(" FAILED\n");
        }
    }

    public static boolean reschedule() {
        long mask = CpuRecord.onlineMask();
        for (int cpu = CpuMask.next(mask, 1); cpu >= 0; cpu = CpuMask.next(mask, cpu + 1)) {
            IpiMailbox.post(SmpState.mailbox(), cpu, IpiReason.RESCHEDULE);
        }
        int passed = 0;
        for (int cpu = CpuMask.next(mask, 1); cpu >= 0; cpu = CpuMask.next(mask, cpu + 1)) {
            long deadline = Delay.deadline(WAIT_US);
            while (SmpState.counter(cpu, SmpState.RESCHEDULES) == 0 && !Delay.passed(deadline)) {
                Cpu.pause();
            }
            if (SmpState.counter(cpu, SmpState.RESCHEDULES) > 0) {
                passed++;
            }
        }
        Console.print("ipi reschedule: ");
        result(passed, others());
        return passed == others();
    }

    public static boolean callSingle() {
        long mask = CpuRecord.onlineMask();
        int passed = 0;
        for (int cpu = CpuMask.next(mask, 1); cpu >= 0; cpu = CpuMask.next(mask, cpu + 1)) {
            long token = 0x5EED_0000L + cpu;
            CallFunction.callSingle(SmpState.calls(), 0, cpu, CrossCalls.RECORD, token);
            if (CrossCalls.result(cpu) == token && CrossCalls.apicSeen(cpu) == CpuRecord.apicId(cpu)) {
                passed++;
            }
        }
        Console.print("ipi call-function single: ");
        result(passed, others());
        return passed == others();
    }

    public static boolean callMany() {
        int before = SmpState.callsRun();
        CallFunction.callMany(SmpState.calls(), 0, CpuRecord.onlineMask(), CrossCalls.COUNT, 0);
        int ran = SmpState.callsRun() - before;
        int online = others() + 1;
        Console.print("ipi call-function many: ");
        result(ran, online);
        return ran == online;
    }

    /**
     * One-shot APIC timer on the boot CPU; its handler forwards TIMER to every other CPU.
     * Interrupts are off from each look at the tick count to the HLT (STI's one-instruction
     * shadow covers the HLT): the one tick arriving between the look and the HLT was handled and
     * then slept through, with every other CPU halted as well and nothing left to wake anyone
     * (one boot in about 1,100 at 120-200 CPUs under QEMU TCG hung here, issue 14).
     */
    public static boolean timer(long ticksPerMs) {
        boolean interrupts = InterruptFlag.enabled();
        Cpu.cli();
        Lapic.write(Lapic.LVT_TIMER, Vectors.TIMER);
        Lapic.write(Lapic.TIMER_INITIAL, (int) (ticksPerMs > 0 ? ticksPerMs : 100000));
        long deadline = Delay.deadline(WAIT_US);
        while (IpiHandlers.bspTicks() == 0 && !Delay.passed(deadline)) {
            Asm.call("kernel_wait_for_interrupt");
            Cpu.cli();
        }
        if (interrupts) {
            Cpu.sti();
        }
        long mask = CpuRecord.onlineMask();
        int passed = 0;
        for (int cpu = CpuMask.next(mask, 1); cpu >= 0; cpu = CpuMask.next(mask, cpu + 1)) {
            while (SmpState.counter(cpu, SmpState.TIMER_IPIS) == 0 && !Delay.passed(deadline)) {
                Cpu.pause();
            }
            if (SmpState.counter(cpu, SmpState.TIMER_IPIS) > 0) {
                passed++;
            }
        }
        Console.print("timer: boot cpu ticks ");
        Log.dec(IpiHandlers.bspTicks());
        Console.print(", forwarded to ");
        result(passed, others());
        return IpiHandlers.bspTicks() > 0 && passed == others();
    }

    /**
     * Maps TEST_VA to an old page, has every CPU read it (so the translation may be cached),
     * remaps it to a new page, shoots the page down, and has every CPU read it again.
     */
    public static boolean shootdown(long oldPage, long newPage) {
        Memory.store64(oldPage, OLD_VALUE);
        Memory.store64(newPage, NEW_VALUE);
        PageTables.map(TEST_VA, oldPage);
        long mask = CpuRecord.onlineMask();
        CallFunction.callMany(SmpState.calls(), 0, mask, CrossCalls.READ, TEST_VA);
        int sawOld = 0;
        for (int cpu = CpuMask.next(mask, 0); cpu >= 0; cpu = CpuMask.next(mask, cpu + 1)) {
            if (CrossCalls.valueRead(cpu) == OLD_VALUE) {
                sawOld++;
            }
        }
        PageTables.map(TEST_VA, newPage);
        TlbShootdown.shootdown(SmpState.tlb(), 0, mask, TEST_VA, 1, TlbShootdown.KERNEL_ASID);
        CallFunction.callMany(SmpState.calls(), 0, mask, CrossCalls.READ, TEST_VA);
        int seeNew = 0;
        for (int cpu = CpuMask.next(mask, 0); cpu >= 0; cpu = CpuMask.next(mask, cpu + 1)) {
            if (CrossCalls.valueRead(cpu) == NEW_VALUE) {
                seeNew++;
            }
        }
        int online = others() + 1;
        Console.print("tlb shootdown: old mapping seen by ");
        Log.dec(sawOld);
        Console.print("/");
        Log.dec(online);
        Console.print(", new mapping after shootdown seen by ");
        result(seeNew, online);
        return sawOld == online && seeNew == online;
    }
}
