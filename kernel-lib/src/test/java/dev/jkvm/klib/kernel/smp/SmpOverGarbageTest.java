package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.cpu.CpuMask;

import dev.jkvm.klib.kernel.sync.HostCpus;
import dev.jkvm.klib.rt.Asm;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SMP structures over memory that is not zeroed, as the boot allocator hands it out: each
 * init must clear every request mask and record every pointer, and each structure must stay
 * inside its bytes. Then the paths no other test drives: an initiator that, while it waits for
 * its own request, serves the other kind of request addressed to it (a CPU waiting for a
 * function call must still acknowledge a TLB shootdown, or two CPUs deadlock), PINGs, and one
 * IPI per fresh reason. PIT found the init stores and these paths surviving their removal.
 */
class SmpOverGarbageTest {
    private static final byte GARBAGE = (byte) 0xA5;
    private static final int GUARD = 64;
    private static final int CPUS = 4;
    private static final int VECTOR = 0xE0;

    /** The simulated CPU a host thread is, for the invalidation log. */
    private static final ThreadLocal<String> RUNNING = ThreadLocal.withInitial(() -> "cpu?");

    private final Queue<String> events = new ConcurrentLinkedQueue<>();
    private MemorySegment[] regions = new MemorySegment[0];

    private long place(long size) {
        MemorySegment region = HostCpus.sharedMemory().allocate(GUARD + size + GUARD, 64).fill(GARBAGE);
        MemorySegment[] more = Arrays.copyOf(regions, regions.length + 1);
        more[regions.length] = region;
        regions = more;
        return region.address() + GUARD;
    }

    private void assertGuardsIntact() {
        for (MemorySegment region : regions) {
            long size = region.byteSize() - 2 * GUARD;
            for (long i = 0; i < GUARD; i++) {
                assertEquals(GARBAGE, region.get(ValueLayout.JAVA_BYTE, i), "byte " + (GUARD - i) + " before a structure");
                assertEquals(GARBAGE, region.get(ValueLayout.JAVA_BYTE, GUARD + size + i), "byte " + i + " after a structure");
            }
        }
    }

    @BeforeEach
    void bindings() {
        Asm.hostDefine(IpiSend.SYMBOL, args -> {
            events.add("ipi " + args[0] + " vector " + Long.toHexString(args[1]));
            return 0;
        });
        Asm.hostDefine(IpiSend.ALL_OTHERS_SYMBOL, args -> {
            events.add("ipi all others vector " + Long.toHexString(args[0]));
            return 0;
        });
        Asm.hostDefine(CallFunctionDispatch.SYMBOL, args -> {
            events.add("run " + args[0] + "(" + Long.toHexString(args[1]) + ") on " + args[2]);
            return 0;
        });
        Asm.hostDefine(TlbInvalidate.PAGE_SYMBOL, args -> {
            events.add(RUNNING.get() + " invlpg " + Long.toHexString(args[0]));
            return 0;
        });
        Asm.hostDefine(TlbInvalidate.ADDRESS_SPACE_SYMBOL, args -> {
            events.add(RUNNING.get() + " reload cr3");
            return 0;
        });
        Asm.hostDefine(TlbInvalidate.ALL_SYMBOL, args -> {
            events.add(RUNNING.get() + " toggle cr4.pge");
            return 0;
        });
    }

    private long mailbox() {
        long mailbox = place(IpiMailbox.bytesFor(CPUS));
        IpiMailbox.init(mailbox, CPUS, VECTOR);
        return mailbox;
    }

    private long mask(int... cpus) {
        long mask = place(CpuMask.SIZE);
        CpuMask.clearAll(mask);
        for (int cpu : cpus) {
            CpuMask.set(mask, cpu);
        }
        return mask;
    }

    @Test
    void afterInitNothingIsPendingAnywhere() {
        long mailbox = mailbox();
        long calls = place(CallFunction.bytesFor(CPUS));
        long tlb = place(TlbShootdown.bytesFor(CPUS));
        CallFunction.init(calls, CPUS, mailbox, tlb);
        TlbShootdown.init(tlb, CPUS, 8, mailbox, calls);
        assertEquals(CPUS, IpiMailbox.cpuCount(mailbox));
        for (int cpu = 0; cpu < CPUS; cpu++) {
            assertEquals(0, IpiMailbox.pending(mailbox, cpu), "reasons of cpu " + cpu);
            assertEquals(0, IpiMailbox.takePings(mailbox, cpu), "pings of cpu " + cpu);
            assertEquals(0, CallFunction.runIncoming(calls, cpu), "calls for cpu " + cpu);
            assertEquals(0, TlbShootdown.runIncoming(tlb, cpu), "shootdowns for cpu " + cpu);
            assertEquals(TlbShootdown.KERNEL_ASID, TlbShootdown.currentAsid(tlb, cpu), "every CPU starts in the kernel's space");
        }
        assertEquals(List.of(), List.copyOf(events));
        assertGuardsIntact();
    }

    @Test
    void aCallerWaitingForItsFunctionAcknowledgesAShootdownMeanwhile() throws Exception {
        long mailbox = mailbox();
        long calls = place(CallFunction.bytesFor(CPUS));
        long tlb = place(TlbShootdown.bytesFor(CPUS));
        CallFunction.init(calls, CPUS, mailbox, tlb);
        // calls = 0: cpu 1's shootdown must not serve cpu 0's call itself, which would let cpu 0
        // go without ever looking at the shootdown.
        TlbShootdown.init(tlb, CPUS, 8, mailbox, 0L);
        long target = mask(0);
        AtomicInteger ran = new AtomicInteger(-1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread cpu1 = new Thread(() -> {
            RUNNING.set("cpu1");
            try {
                while ((IpiMailbox.pending(mailbox, 1) & IpiReason.CALL_FUNCTION) == 0) {
                    Thread.onSpinWait();
                }
                // cpu 0 is now inside callSingle and only its wait loop can acknowledge this.
                TlbShootdown.shootdown(tlb, 1, target, 0x7000, 2, TlbShootdown.KERNEL_ASID);
                ran.set(CallFunction.runIncoming(calls, 1));
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "cpu1");
        cpu1.setDaemon(true);
        cpu1.start();
        RUNNING.set("cpu0");
        try {
            CallFunction.callSingle(calls, 0, 1, 5, 0x77);
        } finally {
            RUNNING.remove();
        }
        cpu1.join(120_000); // a guard against hanging the build, not a speed check
        assertNull(failure.get());
        assertFalse(cpu1.isAlive());
        assertEquals(1, ran.get(), "one request ran on cpu 1");
        assertTrue(events.contains("run 5(77) on 1"), events.toString());
        assertTrue(events.contains("cpu0 invlpg 7000"), events.toString());
        assertTrue(events.contains("cpu0 invlpg 8000"), events.toString());
        assertEquals(0, CallFunction.runIncoming(calls, 1));
        assertEquals(0, TlbShootdown.runIncoming(tlb, 0));
        assertGuardsIntact();
    }

    @Test
    void anInitiatorWaitingForItsShootdownRunsAFunctionCallMeanwhile() throws Exception {
        long mailbox = mailbox();
        long calls = place(CallFunction.bytesFor(CPUS));
        long tlb = place(TlbShootdown.bytesFor(CPUS));
        CallFunction.init(calls, CPUS, mailbox, 0L);
        TlbShootdown.init(tlb, CPUS, 8, mailbox, calls);
        long target = mask(1);
        AtomicInteger served = new AtomicInteger(-1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread cpu1 = new Thread(() -> {
            RUNNING.set("cpu1");
            try {
                while ((IpiMailbox.pending(mailbox, 1) & IpiReason.TLB_SHOOTDOWN) == 0) {
                    Thread.onSpinWait();
                }
                CallFunction.callSingle(calls, 1, 0, 9, 0x55);
                served.set(TlbShootdown.runIncoming(tlb, 1));
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "cpu1");
        cpu1.setDaemon(true);
        cpu1.start();
        RUNNING.set("cpu0");
        try {
            TlbShootdown.shootdown(tlb, 0, target, 0x10000, 40, 3);
        } finally {
            RUNNING.remove();
        }
        cpu1.join(120_000); // a guard against hanging the build, not a speed check
        assertNull(failure.get());
        assertFalse(cpu1.isAlive());
        assertEquals(1, served.get(), "one shootdown served on cpu 1");
        assertTrue(events.contains("run 9(55) on 0"), events.toString());
        // Address space 3 is not the one cpu 1 runs (the kernel's): nothing to invalidate there.
        assertFalse(events.stream().anyMatch(e -> e.startsWith("cpu1 ")), events.toString());
        assertGuardsIntact();
    }

    @Test
    void aMaskOverGarbageHoldsExactlyWhatWasSet() {
        long mask = place(CpuMask.SIZE);
        CpuMask.clearAll(mask);
        assertEquals(0, CpuMask.count(mask));
        assertEquals(-1, CpuMask.next(mask, 0));
        mask = place(CpuMask.SIZE);
        CpuMask.setFirst(mask, 70);
        assertEquals(70, CpuMask.count(mask));
        assertTrue(CpuMask.contains(mask, 69));
        assertFalse(CpuMask.contains(mask, 70));
        assertEquals(-1, CpuMask.next(mask, 70));
        mask = place(CpuMask.SIZE);
        CpuMask.setFirst(mask, CpuMask.MAX_CPUS + 1);
        assertEquals(CpuMask.MAX_CPUS, CpuMask.count(mask));
        mask = place(CpuMask.SIZE);
        CpuMask.setFirst(mask, 0);
        assertEquals(0, CpuMask.count(mask));
        assertGuardsIntact();
    }

    @Test
    void eachFreshReasonSendsItsOwnVectorOnce() {
        long mailbox = mailbox();
        assertEquals(0, IpiMailbox.post(mailbox, 2, IpiReason.RESCHEDULE | IpiReason.TIMER));
        assertEquals(List.of("ipi 2 vector e0", "ipi 2 vector e4"), List.copyOf(events));
        events.clear();
        assertEquals(IpiReason.RESCHEDULE | IpiReason.TIMER,
                IpiMailbox.post(mailbox, 2, IpiReason.TIMER | IpiReason.PANIC));
        assertEquals(List.of("ipi 2 vector e3"), List.copyOf(events), "TIMER was pending already");
        assertEquals(IpiReason.TIMER, IpiMailbox.takeReasons(mailbox, 2, IpiReason.TIMER | IpiReason.PING));
        assertEquals(IpiReason.RESCHEDULE | IpiReason.PANIC, IpiMailbox.pending(mailbox, 2));
        assertGuardsIntact();
    }

    @Test
    void pingsAreCountedPerTargetAndEachSendsAnIpi() {
        long mailbox = mailbox();
        IpiMailbox.ping(mailbox, 2);
        IpiMailbox.ping(mailbox, 2);
        assertEquals(List.of("ipi 2 vector e5", "ipi 2 vector e5"), List.copyOf(events));
        assertEquals(IpiReason.PING, IpiMailbox.pending(mailbox, 2));
        assertEquals(IpiReason.PING, IpiMailbox.takeReasons(mailbox, 2, IpiReason.PING));
        assertEquals(2, IpiMailbox.takePings(mailbox, 2));
        assertEquals(0, IpiMailbox.takePings(mailbox, 2));
        events.clear();

        IpiMailbox.pingAllOthers(mailbox, 1);
        assertEquals(List.of("ipi all others vector e5"), List.copyOf(events), "one broadcast");
        for (int cpu = 0; cpu < CPUS; cpu++) {
            int expected = cpu == 1 ? 0 : 1;
            assertEquals(expected == 0 ? 0 : IpiReason.PING, IpiMailbox.pending(mailbox, cpu), "reasons of cpu " + cpu);
            assertEquals(expected, IpiMailbox.takePings(mailbox, cpu), "pings of cpu " + cpu);
        }
        assertGuardsIntact();
    }
}
