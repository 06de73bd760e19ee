package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.cpu.CpuRecord;

import dev.jkvm.klib.kernel.cpu.PerCpuArea;
import dev.jkvm.klib.kernel.cpu.PerCpuVariables;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.HostAddressSpace;
import dev.jkvm.klib.rt.HostArena;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The mailbox and timer interrupt handlers on the host: each takes only the reasons of its own
 * vector, counts RESCHEDULE and TIMER in the CPU's record, adds up PINGs in the CPU's own per-CPU
 * counters, and the boot CPU's tick forwards TIMER to the other online CPUs. Before, these ran
 * only in a booted kernel, where PIT's mutants never are.
 */
class IpiHandlersTest {
    private static final int CPUS = 3;
    private static final int VECTOR = 0xE0;

    private final List<String> events = new ArrayList<>();
    private int runningCpu;

    @BeforeEach
    void boot() {
        MemorySegment ram = HostArena.global().allocate(1 << 20, 4096).fill((byte) 0xA5);
        BootAllocator.init(ram.address(), ram.address() + ram.byteSize());
        Asm.hostDefine("kernel_memzero", args -> {
            HostAddressSpace.view(args[0], args[1], "kernel_memzero").fill((byte) 0);
            return 0;
        });
        Asm.hostDefine(IpiSend.SYMBOL, args -> {
            events.add("ipi " + args[0] + " vector " + Long.toHexString(args[1]));
            return 0;
        });
        Asm.hostDefine("kernel_halt_forever", args -> {
            events.add("halt on " + runningCpu);
            return 0;
        });
        Asm.hostDefine(PerCpuArea.CPU_INDEX_SYMBOL, args -> runningCpu);
        Asm.hostDefine(PerCpuVariables.ADD_SYMBOL, args -> {
            long at = PerCpuVariables.of(runningCpu, args[0]);
            Memory.store64(at, Memory.load64(at) + args[1]);
            return 0;
        });
        SmpState.allocate(CPUS);
        CpuRecord.allocate(CPUS);
        IpiMailbox.init(SmpState.mailbox(), CPUS, VECTOR);
        CallFunction.init(SmpState.calls(), CPUS, SmpState.mailbox(), SmpState.tlb());
        TlbShootdown.init(SmpState.tlb(), CPUS, TlbShootdown.DEFAULT_FULL_FLUSH_THRESHOLD, SmpState.mailbox(), SmpState.calls());
        for (int cpu = 0; cpu < CPUS; cpu++) {
            long area = BootAllocator.allocate(PerCpuArea.DYNAMIC_BYTES, PerCpuArea.ALIGNMENT);
            Memory.store64(CpuRecord.of(cpu) + CpuRecord.AREA, area);
        }
        PerCpuVariables.init(BootAllocator.allocate(PerCpuVariables.STATE_SIZE, 64), 0, PerCpuArea.DYNAMIC_BYTES);
        IpiHandlers.registerCounters();
        for (int cpu = 0; cpu < CPUS; cpu++) {
            IpiHandlers.resetPingCounters(cpu);
        }
    }

    @Test
    void pingsAreAddedUpOnTheReceivingCpuOnly() {
        IpiMailbox.ping(SmpState.mailbox(), 1);
        IpiMailbox.ping(SmpState.mailbox(), 1);
        IpiMailbox.ping(SmpState.mailbox(), 1);
        runningCpu = 1;
        IpiHandlers.mailbox(IpiReason.PING);
        assertEquals(3, IpiHandlers.pingsTaken(1));
        assertEquals(1, IpiHandlers.pingInterrupts(1), "one interrupt brought all three");
        assertEquals(0, IpiHandlers.pingsTaken(0));
        assertEquals(0, IpiHandlers.pingInterrupts(2));
        IpiMailbox.ping(SmpState.mailbox(), 1);
        IpiHandlers.mailbox(IpiReason.PING);
        assertEquals(4, IpiHandlers.pingsTaken(1));
        assertEquals(2, IpiHandlers.pingInterrupts(1));
        IpiHandlers.resetPingCounters(1);
        assertEquals(0, IpiHandlers.pingsTaken(1));
        assertEquals(0, IpiHandlers.pingInterrupts(1));
    }

    @Test
    void eachVectorTakesAndCountsOnlyItsOwnReason() {
        IpiMailbox.post(SmpState.mailbox(), 2, IpiReason.RESCHEDULE | IpiReason.TIMER);
        runningCpu = 2;
        assertEquals(IpiReason.RESCHEDULE, IpiHandlers.mailbox(IpiReason.RESCHEDULE),
                "kernel.Traps hands what it returns to the scheduler");
        assertEquals(1, SmpState.counter(2, SmpState.RESCHEDULES));
        assertEquals(0, SmpState.counter(2, SmpState.TIMER_IPIS), "TIMER has its own vector");
        assertEquals(IpiReason.TIMER, IpiMailbox.pending(SmpState.mailbox(), 2));
        IpiHandlers.mailbox(IpiReason.TIMER);
        assertEquals(1, SmpState.counter(2, SmpState.TIMER_IPIS));
        assertEquals(1, SmpState.counter(2, SmpState.RESCHEDULES));
        assertEquals(0, IpiMailbox.pending(SmpState.mailbox(), 2));
        // An interrupt whose reason was taken already (IPIs coalesce) counts nothing.
        assertEquals(0, IpiHandlers.mailbox(IpiReason.TIMER));
        IpiHandlers.mailbox(IpiReason.PING);
        assertEquals(1, SmpState.counter(2, SmpState.TIMER_IPIS));
        assertEquals(0, IpiHandlers.pingInterrupts(2));
        assertEquals(0, SmpState.counter(1, SmpState.RESCHEDULES));
        assertTrue(events.stream().noneMatch(e -> e.startsWith("halt")), events.toString());
    }

    @Test
    void panicStopsTheCpu() {
        IpiMailbox.post(SmpState.mailbox(), 1, IpiReason.PANIC);
        events.clear();
        runningCpu = 1;
        IpiHandlers.mailbox(IpiReason.PANIC);
        assertEquals(List.of("halt on 1"), events);
        assertEquals(0, SmpState.counter(1, SmpState.RESCHEDULES));
    }

    @Test
    void theBootCpuTickForwardsTimerToTheOtherOnlineCpus() {
        CpuMask.set(CpuRecord.onlineMask(), 0);
        CpuMask.set(CpuRecord.onlineMask(), 2);
        runningCpu = 0;
        int before = IpiHandlers.bspTicks();
        IpiHandlers.timer();
        assertEquals(before + 1, IpiHandlers.bspTicks());
        assertEquals(IpiReason.TIMER, IpiMailbox.pending(SmpState.mailbox(), 2));
        assertEquals(0, IpiMailbox.pending(SmpState.mailbox(), 1), "cpu 1 is not online");
        assertEquals(0, IpiMailbox.pending(SmpState.mailbox(), 0), "not to itself");
        assertEquals(List.of("ipi 2 vector e4"), events);
    }
}
