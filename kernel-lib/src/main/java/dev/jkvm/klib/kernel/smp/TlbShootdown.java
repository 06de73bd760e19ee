package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * TLB shootdown: after changing or removing mappings, the initiator makes every CPU that may
 * cache them drop those translations, and waits for all acknowledgements before it reuses the
 * freed pages or page tables (x86 keeps no TLB coherence of its own, Intel SDM Vol. 3A 4.10.5).
 *
 * A request covers pageCount 4 KiB pages from start in one address space. A target that does not
 * run that address space skips the work: loading its CR3 on the next switch drops the space's
 * non-global translations anyway. KERNEL_ASID names the kernel's shared (possibly global)
 * mappings, which every CPU invalidates. Up to fullFlushThreshold pages a target invalidates
 * page by page (INVLPG); above it one full flush is cheaper than that many INVLPGs and the
 * refills they cause: a CR3 reload for a user space, a CR4.PGE toggle for the kernel's.
 *
 * The delivery protocol is CallFunction's: one request slot per initiating CPU, the initiator's
 * bit in each target's incoming CpuMask, IpiReason.TLB_SHOOTDOWN in the mailbox, a remaining
 * count each target decrements (its acknowledgement) after invalidating, and an initiator that
 * serves shootdown and call-function requests addressed to itself while it waits.
 *
 * Each CPU's slot also records the address space it runs (setCurrentAsid, called by the context
 * switch with interrupts disabled, right after loading CR3), so a handler knows what to skip.
 *
 * Layout (bytesFor(cpuCount) bytes, 64-byte aligned):
 * <pre>
 *   +0  int  cpuCount
 *   +4  int  fullFlushThreshold   most pages invalidated one by one
 *   +8  long mailbox              IpiMailbox address
 *   +16 long calls                CallFunction address served while waiting, or 0
 *   +64 + cpu * STRIDE            request of initiator cpu, and state of cpu:
 *        +0  long start           linear address of the first page (4 KiB aligned)
 *        +8  long pageCount
 *        +16 int  asid            address space id, KERNEL_ASID for kernel mappings
 *        +20 int  remaining       targets that have not acknowledged yet
 *        +24 int  currentAsid     address space cpu runs now
 *        +64 CpuMask incoming     initiators with a request for this cpu (CpuMask.SIZE bytes)
 * </pre>
 */
public final class TlbShootdown {
    private TlbShootdown() {
    }

    public static final int CPU_COUNT = 0;
    public static final int FULL_FLUSH_THRESHOLD = 4;
    public static final int MAILBOX = 8;
    public static final int CALLS = 16;
    public static final int HEADER = 64;
    public static final int STRIDE = 64 + CpuMask.SIZE;
    public static final int START = 0;
    public static final int PAGE_COUNT = 8;
    public static final int ASID = 16;
    public static final int REMAINING = 20;
    public static final int CURRENT_ASID = 24;
    public static final int INCOMING = 64;

    public static final int PAGE_SIZE = 4096;
    /** Address space id of the kernel's mappings, shared by every address space. */
    public static final int KERNEL_ASID = 0;
    /** A sensible fullFlushThreshold: beyond this many INVLPGs a full flush costs less. */
    public static final int DEFAULT_FULL_FLUSH_THRESHOLD = 32;

    public static long bytesFor(int cpuCount) {
        return HEADER + (long) cpuCount * STRIDE;
    }

    /**
     * calls: the CallFunction area whose requests a waiting initiator serves too (0: none). Every
     * CPU starts in KERNEL_ASID.
     */
    public static void init(long tlb, int cpuCount, int fullFlushThreshold, long mailbox, long calls) {
        Memory.store32(tlb + CPU_COUNT, cpuCount);
        Memory.store32(tlb + FULL_FLUSH_THRESHOLD, fullFlushThreshold);
        Memory.store64(tlb + MAILBOX, mailbox);
        Memory.store64(tlb + CALLS, calls);
        for (int cpu = 0; cpu < cpuCount; cpu++) {
            long slot = slot(tlb, cpu);
            Memory.store64(slot + START, 0L);
            Memory.store64(slot + PAGE_COUNT, 0L);
            Memory.store32(slot + ASID, 0);
            Memory.store32(slot + REMAINING, 0);
            Memory.store32(slot + CURRENT_ASID, KERNEL_ASID);
            CpuMask.clearAll(slot + INCOMING);
        }
    }

    /**
     * Invalidates the pages on every CPU of the mask below cpuCount (on the caller directly, when
     * it is in the mask) and returns once all have acknowledged. The mask must not change during
     * the call.
     */
    public static void shootdown(long tlb, int selfCpu, long cpuMask, long start, long pageCount, int asid) {
        int cpuCount = Memory.load32(tlb + CPU_COUNT);
        int targets = 0;
        for (int cpu = CpuMask.next(cpuMask, 0); cpu >= 0 && cpu < cpuCount; cpu = CpuMask.next(cpuMask, cpu + 1)) {
            if (cpu != selfCpu) {
                targets++;
            }
        }
        long slot = slot(tlb, selfCpu);
        Memory.store64(slot + START, start);
        Memory.store64(slot + PAGE_COUNT, pageCount);
        Memory.store32(slot + ASID, asid);
        Atomic.storeVolatile32(slot + REMAINING, targets);
        long mailbox = Memory.load64(tlb + MAILBOX);
        for (int cpu = CpuMask.next(cpuMask, 0); cpu >= 0 && cpu < cpuCount; cpu = CpuMask.next(cpuMask, cpu + 1)) {
            if (cpu != selfCpu) {
                CpuMask.set(slot(tlb, cpu) + INCOMING, selfCpu);
                IpiMailbox.post(mailbox, cpu, IpiReason.TLB_SHOOTDOWN);
            }
        }
        if (selfCpu < cpuCount && CpuMask.contains(cpuMask, selfCpu)) {
            invalidate(tlb, start, pageCount, asid, currentAsid(tlb, selfCpu));
        }
        long calls = Memory.load64(tlb + CALLS);
        while (Atomic.loadVolatile32(slot + REMAINING) != 0) {
            runIncoming(tlb, selfCpu);
            if (calls != 0) {
                CallFunction.runIncoming(calls, selfCpu);
            }
            Cpu.pause();
        }
    }

    /** Records the address space the CPU now runs (by the CPU itself, interrupts disabled). */
    public static void setCurrentAsid(long tlb, int cpu, int asid) {
        Memory.store32(slot(tlb, cpu) + CURRENT_ASID, asid);
    }

    public static int currentAsid(long tlb, int cpu) {
        return Memory.load32(slot(tlb, cpu) + CURRENT_ASID);
    }

    /** For the IPI handler: serves and acknowledges every request for this CPU; returns how many. */
    public static int runIncoming(long tlb, int cpu) {
        long incoming = slot(tlb, cpu) + INCOMING;
        int currentAsid = currentAsid(tlb, cpu);
        int served = 0;
        for (int w = 0; w < CpuMask.WORDS; w++) {
            long bits = Atomic.exchange64Acquire(incoming + w * 8L, 0L);
            while (bits != 0) {
                long request = slot(tlb, w * 64 + CpuMask.lowestBit(bits));
                bits &= bits - 1;
                invalidate(tlb, Memory.load64(request + START), Memory.load64(request + PAGE_COUNT),
                        Memory.load32(request + ASID), currentAsid);
                Atomic.fetchAdd32Release(request + REMAINING, -1);
                served++;
            }
        }
        return served;
    }

    /** Drops this CPU's translations of the range, the cheapest sufficient way. */
    public static void invalidate(long tlb, long start, long pageCount, int asid, int currentAsid) {
        if (asid != KERNEL_ASID && asid != currentAsid) {
            return;
        }
        if (pageCount > Memory.load32(tlb + FULL_FLUSH_THRESHOLD)) {
            if (asid == KERNEL_ASID) {
                TlbInvalidate.all();
            } else {
                TlbInvalidate.addressSpace();
            }
            return;
        }
        for (long page = 0; page < pageCount; page++) {
            TlbInvalidate.page(start + page * PAGE_SIZE);
        }
    }

    private static long slot(long tlb, int cpu) {
        return tlb + HEADER + (long) cpu * STRIDE;
    }
}
