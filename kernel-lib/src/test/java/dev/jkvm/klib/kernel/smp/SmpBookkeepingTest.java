package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.cpu.CpuRecord;

import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.HostAddressSpace;
import dev.jkvm.klib.rt.HostArena;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The boot-time SMP bookkeeping on the host: SmpState's per-CPU records and global counters, and
 * IdleCall, the boot CPU's way to have idle APs run a function. Until PIT pointed at them, both
 * ran only when the kernel booted, where no mutant can reach them. The boot allocator hands out
 * garbage-filled memory here, as it hands out whatever RAM held in a VM.
 */
class SmpBookkeepingTest {
    private static final int VECTOR = 0xF3;
    private static final int CPUS = 4;

    private final List<String> events = new ArrayList<>();

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
        Asm.hostDefine("kernel_wait_for_interrupt", args -> {
            events.add("hlt, interrupts " + (Cpu.hostInterruptsEnabled() ? "on" : "off"));
            return 0;
        });
        Asm.hostDefine(CallFunctionDispatch.SYMBOL, args -> {
            events.add("run " + args[0] + "(" + Long.toHexString(args[1]) + ") on " + args[2]
                    + ", interrupts " + (Cpu.hostInterruptsEnabled() ? "on" : "off"));
            return 0;
        });
        SmpState.allocate(CPUS);
        CpuRecord.allocate(CPUS);
        IpiMailbox.init(SmpState.mailbox(), CPUS, VECTOR);
    }

    @Test
    void recordsAreSeparateZeroedAndHoldEachField() {
        assertEquals(CPUS, CpuRecord.count());
        for (int cpu = 1; cpu < CPUS; cpu++) {
            assertEquals(SmpState.RECORD, SmpState.record(cpu) - SmpState.record(cpu - 1));
        }
        for (int cpu = 0; cpu < CPUS; cpu++) {
            for (int offset = 0; offset < SmpState.RECORD; offset += 4) {
                assertEquals(0, Memory.load32(SmpState.record(cpu) + offset), "cpu " + cpu + " +" + offset);
            }
        }
        Memory.store32(CpuRecord.of(2) + CpuRecord.APIC_ID, 7);
        assertEquals(7, CpuRecord.apicId(2));
        assertEquals(0, CpuRecord.apicId(1));
        SmpState.setStage(1, 5);
        assertEquals(5, SmpState.stage(1));
        assertEquals(5, Memory.load32(SmpState.record(1) + SmpState.STAGE));
        assertEquals(0, SmpState.stage(2));
        SmpState.increment(3, SmpState.RESCHEDULES);
        SmpState.increment(3, SmpState.RESCHEDULES);
        SmpState.increment(3, SmpState.TIMER_IPIS);
        assertEquals(2, SmpState.counter(3, SmpState.RESCHEDULES));
        assertEquals(1, SmpState.counter(3, SmpState.TIMER_IPIS));
        assertEquals(0, SmpState.counter(2, SmpState.RESCHEDULES));
        assertEquals(2, Memory.load32(SmpState.record(3) + SmpState.RESCHEDULES));
    }

    @Test
    void globalCountersAndFlagsAreIndependent() {
        assertEquals(0, SmpState.readyCount());
        assertFalse(SmpState.released());
        assertEquals(0, CpuRecord.haltedCount());
        assertEquals(0, SmpState.callsRun());
        SmpState.noteReady();
        SmpState.noteReady();
        SmpState.noteReady();
        CpuRecord.noteHalted();
        CpuRecord.noteHalted();
        SmpState.noteCallRun();
        assertEquals(3, SmpState.readyCount());
        assertEquals(2, CpuRecord.haltedCount());
        assertEquals(1, SmpState.callsRun());
        assertFalse(SmpState.released());
        SmpState.release();
        assertTrue(SmpState.released());
        assertEquals(3, SmpState.readyCount());
        assertEquals(2, CpuRecord.haltedCount());
        assertEquals(1, SmpState.callsRun());
        CpuRecord.markReady();
        assertTrue(CpuRecord.ready());
    }

    @Test
    void onlineMaskStartsEmpty() {
        for (int cpu = 0; cpu < CPUS; cpu++) {
            assertFalse(CpuRecord.isOnline(cpu));
        }
        assertEquals(0, CpuMask.count(CpuRecord.onlineMask()));
        CpuMask.set(CpuRecord.onlineMask(), 2);
        assertTrue(CpuRecord.isOnline(2));
        assertFalse(CpuRecord.isOnline(1));
    }

    @Test
    void theSharedAreasDoNotOverlap() {
        long[][] areas = {
                {SmpState.mailbox(), IpiMailbox.bytesFor(CPUS)},
                {SmpState.calls(), CallFunction.bytesFor(CPUS)},
                {SmpState.tlb(), TlbShootdown.bytesFor(CPUS)},
                {CpuRecord.onlineMask(), CpuMask.SIZE},
                {SmpState.record(0), (long) CPUS * SmpState.RECORD},
        };
        for (int i = 0; i < areas.length; i++) {
            for (int j = i + 1; j < areas.length; j++) {
                boolean disjoint = areas[i][0] + areas[i][1] <= areas[j][0] || areas[j][0] + areas[j][1] <= areas[i][0];
                assertTrue(disjoint, "areas " + i + " and " + j + " overlap");
            }
        }
    }

    private long mask(int... cpus) {
        long mask = HostArena.global().allocate(CpuMask.SIZE, 64).address();
        CpuMask.clearAll(mask);
        for (int cpu : cpus) {
            CpuMask.set(mask, cpu);
        }
        return mask;
    }

    @Test
    void idleCallRunsTheFunctionOnceOnEachAskedCpuButTheCaller() {
        assertEquals(2, IdleCall.start(7, 0x1234, mask(0, 1, 3), 0));
        assertEquals(List.of("ipi 1 vector f3", "ipi 3 vector f3"), events, "a RESCHEDULE IPI to each asked CPU");
        assertEquals(IpiReason.RESCHEDULE, IpiMailbox.pending(SmpState.mailbox(), 1));
        assertEquals(0, IpiMailbox.pending(SmpState.mailbox(), 0), "not the caller");
        assertEquals(0, IpiMailbox.pending(SmpState.mailbox(), 2));
        assertEquals(0, IdleCall.finished());
        events.clear();

        IdleCall.idleOnce(2);
        assertEquals(List.of("hlt, interrupts off"), events, "nothing asked of cpu 2: it halts, checked with interrupts off");
        assertTrue(Cpu.hostInterruptsEnabled());
        events.clear();

        IdleCall.idleOnce(1);
        assertEquals(List.of("run 7(1234) on 1, interrupts on"), events, "work waiting: no halt");
        assertEquals(1, IdleCall.finished());
        assertTrue(Cpu.hostInterruptsEnabled());
        events.clear();

        IdleCall.idleOnce(1);
        assertEquals(List.of("hlt, interrupts off"), events, "once only");
        assertEquals(1, IdleCall.finished());
        events.clear();

        IdleCall.idleOnce(3);
        assertEquals(List.of("run 7(1234) on 3, interrupts on"), events);
        assertEquals(2, IdleCall.finished());
        events.clear();

        assertEquals(1, IdleCall.start(9, -1L, mask(2), 0));
        assertEquals(0, IdleCall.finished(), "a new call starts counting afresh");
        IdleCall.idleOnce(2);
        assertEquals(List.of("ipi 2 vector f3", "run 9(ffffffffffffffff) on 2, interrupts on"), events);
        assertEquals(1, IdleCall.finished());
    }
}
