package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.sync.HostCpus;
import dev.jkvm.klib.kernel.sync.NativeKernelCode;
import dev.jkvm.klib.nativecode.NativeCode;
import dev.jkvm.klib.rt.HostArena;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The compiled x86-64 form of the SMP bookkeeping, run natively by host threads acting as CPUs.
 * The kernel routines it calls (IPI sender, function registry, TLB instructions) are Java upcalls
 * that latch simulated IPIs and log what ran where.
 */
@NativeCode
class CompiledSmpNativeTest {
    private static final ValueLayout.OfLong J = ValueLayout.JAVA_LONG;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfBoolean Z = ValueLayout.JAVA_BOOLEAN;
    private static final int VECTOR = 0xF3;
    private static final int MAX_SIMULATED = 8;
    private static final int RECORD = 9;
    private static final ThreadLocal<Integer> RUNNING_CPU = ThreadLocal.withInitial(() -> -1);

    private static final AtomicInteger[] IRR = new AtomicInteger[MAX_SIMULATED];
    private static final AtomicLong IPIS_SENT = new AtomicLong();
    private static final Queue<String> VIOLATIONS = new ConcurrentLinkedQueue<>();
    /** RUNS[target * MAX_SIMULATED + initiator]: functions of initiator run on target. */
    private static final AtomicLongArray RUNS = new AtomicLongArray(MAX_SIMULATED * MAX_SIMULATED);
    /** PAGES[cpu]: pages invalidated by INVLPG on cpu. */
    private static final AtomicLongArray PAGES = new AtomicLongArray(MAX_SIMULATED);
    private static final AtomicLongArray FULL_FLUSHES = new AtomicLongArray(MAX_SIMULATED);

    private static MethodHandle maskClearAll;
    private static MethodHandle maskSet;
    private static MethodHandle maskClear;
    private static MethodHandle maskContains;
    private static MethodHandle maskCount;
    private static MethodHandle maskNext;
    private static MethodHandle maskLowestBit;
    private static MethodHandle maskBitCount;
    private static MethodHandle maskSetFirst;
    private static MethodHandle mailboxInit;
    private static MethodHandle mailboxPost;
    private static MethodHandle mailboxPending;
    private static MethodHandle callsInit;
    private static MethodHandle callMany;
    private static MethodHandle tlbInit;
    private static MethodHandle tlbShootdown;
    private static MethodHandle handle;

    @BeforeAll
    static void compile() {
        for (int cpu = 0; cpu < MAX_SIMULATED; cpu++) {
            IRR[cpu] = new AtomicInteger();
        }
        NativeKernelCode code = new NativeKernelCode(Map.of(
                IpiSend.SYMBOL, (target, vector, c, d) -> {
                    if (vector < VECTOR || vector >= VECTOR + IpiReason.KINDS || target < 0 || target >= MAX_SIMULATED) {
                        VIOLATIONS.add("IPI " + vector + " to " + target);
                    } else {
                        IPIS_SENT.incrementAndGet();
                        int kind = (int) vector - VECTOR;
                        IRR[(int) target].getAndUpdate(latched -> latched | 1 << kind);
                    }
                    return 0;
                },
                IpiSend.ALL_OTHERS_SYMBOL, (vector, b, c, d) -> {
                    VIOLATIONS.add("broadcast IPI " + vector);
                    return 0;
                },
                CallFunctionDispatch.SYMBOL, (functionId, argument, cpu, d) -> {
                    if (functionId != RECORD || (int) cpu != RUNNING_CPU.get()) {
                        VIOLATIONS.add("function " + functionId + " told cpu " + (int) cpu + " on " + RUNNING_CPU.get());
                    } else {
                        RUNS.incrementAndGet((int) cpu * MAX_SIMULATED + (int) argument);
                    }
                    return 0;
                },
                TlbInvalidate.PAGE_SYMBOL, (address, b, c, d) -> {
                    PAGES.incrementAndGet(RUNNING_CPU.get());
                    return 0;
                },
                TlbInvalidate.ADDRESS_SPACE_SYMBOL, (a, b, c, d) -> {
                    FULL_FLUSHES.incrementAndGet(RUNNING_CPU.get());
                    return 0;
                },
                TlbInvalidate.ALL_SYMBOL, (a, b, c, d) -> {
                    FULL_FLUSHES.incrementAndGet(RUNNING_CPU.get());
                    return 0;
                }),
                CpuMask.class, IpiMailbox.class, CallFunction.class, TlbShootdown.class, MailboxHandler.class);
        maskClearAll = code.method(CpuMask.class, "clearAll", "(J)V", FunctionDescriptor.ofVoid(J));
        maskSet = code.method(CpuMask.class, "set", "(JI)Z", FunctionDescriptor.of(Z, J, I));
        maskClear = code.method(CpuMask.class, "clear", "(JI)Z", FunctionDescriptor.of(Z, J, I));
        maskContains = code.method(CpuMask.class, "contains", "(JI)Z", FunctionDescriptor.of(Z, J, I));
        maskCount = code.method(CpuMask.class, "count", "(J)I", FunctionDescriptor.of(I, J));
        maskNext = code.method(CpuMask.class, "next", "(JI)I", FunctionDescriptor.of(I, J, I));
        maskLowestBit = code.method(CpuMask.class, "lowestBit", "(J)I", FunctionDescriptor.of(I, J));
        maskBitCount = code.method(CpuMask.class, "bitCount", "(J)I", FunctionDescriptor.of(I, J));
        maskSetFirst = code.method(CpuMask.class, "setFirst", "(JI)V", FunctionDescriptor.ofVoid(J, I));
        mailboxInit = code.method(IpiMailbox.class, "init", "(JII)V", FunctionDescriptor.ofVoid(J, I, I));
        mailboxPost = code.method(IpiMailbox.class, "post", "(JII)I", FunctionDescriptor.of(I, J, I, I));
        mailboxPending = code.method(IpiMailbox.class, "pending", "(JI)I", FunctionDescriptor.of(I, J, I));
        callsInit = code.method(CallFunction.class, "init", "(JIJJ)V", FunctionDescriptor.ofVoid(J, I, J, J));
        callMany = code.method(CallFunction.class, "callMany", "(JIJIJ)V", FunctionDescriptor.ofVoid(J, I, J, I, J));
        tlbInit = code.method(TlbShootdown.class, "init", "(JIIJJ)V", FunctionDescriptor.ofVoid(J, I, I, J, J));
        tlbShootdown = code.method(TlbShootdown.class, "shootdown", "(JIJJJI)V",
                FunctionDescriptor.ofVoid(J, I, J, J, J, I));
        handle = code.method(MailboxHandler.class, "handle", "(JJJII)I", FunctionDescriptor.of(I, J, J, J, I, I));
    }

    @BeforeEach
    void reset() {
        VIOLATIONS.clear();
        for (int i = 0; i < MAX_SIMULATED; i++) {
            IRR[i].set(0);
            PAGES.set(i, 0);
            FULL_FLUSHES.set(i, 0);
        }
        for (int i = 0; i < RUNS.length(); i++) {
            RUNS.set(i, 0);
        }
    }

    @Test
    void compiledCpuMaskAgreesWithBitSet() throws Throwable {
        try (Arena arena = HostArena.ofConfined()) {
            long mask = arena.allocate(CpuMask.SIZE, 8).address();
            maskClearAll.invokeExact(mask);
            BitSet reference = new BitSet();
            Random random = new Random(77);
            for (int i = 0; i < 5_000; i++) {
                int cpu = random.nextInt(CpuMask.MAX_CPUS);
                switch (random.nextInt(3)) {
                    case 0 -> {
                        assertEquals(reference.get(cpu), (boolean) maskSet.invokeExact(mask, cpu));
                        reference.set(cpu);
                    }
                    case 1 -> {
                        assertEquals(reference.get(cpu), (boolean) maskClear.invokeExact(mask, cpu));
                        reference.clear(cpu);
                    }
                    default -> assertEquals(reference.nextSetBit(cpu), (int) maskNext.invokeExact(mask, cpu));
                }
                assertEquals(reference.get(cpu), (boolean) maskContains.invokeExact(mask, cpu));
                assertEquals(reference.cardinality(), (int) maskCount.invokeExact(mask));
                long bits = random.nextLong() >>> random.nextInt(64);
                assertEquals(Long.bitCount(bits), (int) maskBitCount.invokeExact(bits));
                if (bits != 0) {
                    assertEquals(Long.numberOfTrailingZeros(bits), (int) maskLowestBit.invokeExact(bits));
                }
            }
            for (int count : new int[] {0, 1, 64, 65, 1000, 1024}) {
                maskSetFirst.invokeExact(mask, count);
                assertEquals(count, (int) maskCount.invokeExact(mask));
                assertEquals(count == 0 ? -1 : count - 1, prevSet(mask, count));
            }
        }
    }

    private static int prevSet(long mask, int count) throws Throwable {
        int last = -1;
        for (int c = (int) maskNext.invokeExact(mask, 0); c >= 0; c = (int) maskNext.invokeExact(mask, c + 1)) {
            last = c;
        }
        return last;
    }

    /** As IpiMailboxTest.everyPendingBitIsTakenExactlyOnce, on the compiled code. */
    @Test
    void compiledMailboxTakesEveryPendingBitExactlyOnce() throws Throwable {
        int cpus = HostCpus.CORES;
        int[] reasons = {IpiReason.RESCHEDULE, IpiReason.PANIC, IpiReason.TIMER};
        Arena arena = HostCpus.sharedMemory();
        Machine m = new Machine(arena, cpus);
        AtomicLong madePending = new AtomicLong();
        AtomicLong taken = new AtomicLong();
        AtomicLong sentBefore = new AtomicLong(IPIS_SENT.get());
        m.run(cpu -> {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            for (int i = 0; i < 20_000; i++) {
                int reason = reasons[random.nextInt(reasons.length)];
                int before = m.post(random.nextInt(cpus), reason);
                if ((before & reason) == 0) {
                    madePending.incrementAndGet();
                }
                if (random.nextInt(4) == 0) {
                    taken.addAndGet(Integer.bitCount(m.poll(cpu)));
                }
            }
        }, cpu -> taken.addAndGet(Integer.bitCount(m.poll(cpu))));
        for (int cpu = 0; cpu < cpus; cpu++) {
            assertEquals(0, (int) mailboxPending.invokeExact(m.mailbox, cpu));
        }
        assertEquals(madePending.get(), taken.get(), "bits made pending vs bits taken");
        assertEquals(madePending.get(), IPIS_SENT.get() - sentBefore.get(), "IPIs vs posts that found their bit clear");
        assertEquals(List.of(), List.copyOf(VIOLATIONS));
    }

    @Test
    void compiledCallsAndShootdownsCompleteOnEveryTarget() throws Throwable {
        int cpus = HostCpus.CORES;
        int rounds = 200;
        Arena arena = HostCpus.sharedMemory();
        Machine m = new Machine(arena, cpus);
        long all = arena.allocate(CpuMask.SIZE, 8).address();
        maskSetFirst.invokeExact(all, cpus);
        List<String> early = java.util.Collections.synchronizedList(new ArrayList<>());
        m.run(cpu -> {
            for (int round = 0; round < rounds; round++) {
                long before = RUNS.get(((cpu + 1) % cpus) * MAX_SIMULATED + cpu);
                m.callMany(cpu, all, RECORD, cpu);
                if (RUNS.get(((cpu + 1) % cpus) * MAX_SIMULATED + cpu) != before + 1) {
                    early.add("callMany of cpu " + cpu + " returned early in round " + round);
                }
                long pagesBefore = PAGES.get((cpu + 1) % cpus);
                m.shootdown(cpu, all, 0x10_0000L * (round + 1), 2, TlbShootdown.KERNEL_ASID);
                if (PAGES.get((cpu + 1) % cpus) < pagesBefore + 2) {
                    early.add("shootdown of cpu " + cpu + " returned early in round " + round);
                }
                m.poll(cpu);
            }
        }, m::poll);
        assertEquals(List.of(), early);
        for (int target = 0; target < cpus; target++) {
            for (int initiator = 0; initiator < cpus; initiator++) {
                assertEquals(rounds, RUNS.get(target * MAX_SIMULATED + initiator));
            }
            assertEquals(2L * rounds * cpus, PAGES.get(target));
            assertEquals(0, FULL_FLUSHES.get(target));
        }
        assertEquals(List.of(), List.copyOf(VIOLATIONS));
    }

    /** The compiled bookkeeping areas and the native calls the simulated CPUs make. */
    private static final class Machine {
        final int cpus;
        final long mailbox;
        final long calls;
        final long tlb;

        Machine(Arena arena, int cpus) throws Throwable {
            this.cpus = cpus;
            mailbox = arena.allocate(IpiMailbox.bytesFor(cpus), 64).address();
            calls = arena.allocate(CallFunction.bytesFor(cpus), 64).address();
            tlb = arena.allocate(TlbShootdown.bytesFor(cpus), 64).address();
            mailboxInit.invokeExact(mailbox, cpus, VECTOR);
            callsInit.invokeExact(calls, cpus, mailbox, tlb);
            tlbInit.invokeExact(tlb, cpus, TlbShootdown.DEFAULT_FULL_FLUSH_THRESHOLD, mailbox, calls);
        }

        interface Program {
            void run(int cpu) throws Throwable;
        }

        void run(Program program, Program interruptWindow) throws InterruptedException {
            AtomicInteger finished = new AtomicInteger();
            HostCpus.run(cpus, cpu -> {
                RUNNING_CPU.set(cpu);
                try {
                    try {
                        program.run(cpu);
                    } finally {
                        finished.incrementAndGet();
                    }
                    while (finished.get() < cpus) {
                        interruptWindow.run(cpu);
                        Thread.onSpinWait();
                    }
                    interruptWindow.run(cpu);
                } catch (Throwable e) {
                    throw new IllegalStateException(e);
                }
            });
        }

        int poll(int cpu) throws Throwable {
            int latched = IRR[cpu].getAndSet(0);
            if (latched == 0) {
                return 0;
            }
            return (int) handle.invokeExact(mailbox, calls, tlb, cpu, latched);
        }

        int post(int target, int reason) throws Throwable {
            return (int) mailboxPost.invokeExact(mailbox, target, reason);
        }

        void callMany(int self, long mask, int functionId, long argument) throws Throwable {
            CompiledSmpNativeTest.callMany.invokeExact(calls, self, mask, functionId, argument);
        }

        void shootdown(int self, long mask, long start, long pages, int asid) throws Throwable {
            tlbShootdown.invokeExact(tlb, self, mask, start, pages, asid);
        }
    }
}
