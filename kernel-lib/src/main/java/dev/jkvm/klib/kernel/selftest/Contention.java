package dev.jkvm.klib.kernel.selftest;

import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.sync.CheckedMcsLock;
import dev.jkvm.klib.kernel.sync.CheckedRwLock;
import dev.jkvm.klib.kernel.sync.CheckedSpinLock;
import dev.jkvm.klib.kernel.sync.CountedTicketLock;
import dev.jkvm.klib.kernel.sync.CountedSpinSemaphore;
import dev.jkvm.klib.kernel.sync.InterruptFlag;
import dev.jkvm.klib.kernel.sync.IrqSpinLock;
import dev.jkvm.klib.kernel.sync.McsLock;
import dev.jkvm.klib.kernel.sync.RwLock;
import dev.jkvm.klib.kernel.sync.SenseBarrier;
import dev.jkvm.klib.kernel.sync.SeqLock;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * The lock workloads the suite runs on every CPU at once (through Gang): each protects a plain,
 * non-atomic read-modify-write of a shared counter, so a lock that let two CPUs in would lose
 * updates, and an occupancy word catches two holders directly. The debug (checked) forms of the
 * MCS lock, the rwlock and one ticket-lock run are used, so a misuse would panic the run.
 */
public final class Contention {
    private Contention() {
    }

    /**
     * Acquisitions each CPU makes whatever the deadline says. With one, a loaded host running 255
     * software vCPUs let the deadline pass before any CPU came back for a second turn: each took
     * the lock once, in arrival order, and nothing was handed back and forth. From the second turn
     * on a CPU queues again behind CPUs still on their first, so every CPU contends. Two turns
     * cost nothing while the deadline is not reached (the share per CPU is at least 8); past it
     * each turn of all CPUs is long there (QEMU TCG, 129 vCPUs at load 40: 85 ms per MCS
     * hand-off, most waiters descheduled by the host), so no more than the second.
     */
    public static final int ACQUISITIONS_BEFORE_DEADLINE = 2;

    private static long lockMemory;
    private static long nodes;
    private static long data;
    private static final int COUNTER = 0;
    private static final int SECOND = 8;
    private static final int INSIDE = 16;
    private static final int VIOLATIONS = 20;
    private static final int ROUNDS_DONE = 24;
    private static final int IN_LINE = 28;

    /**
     * At most this many CPUs queue for the lock at once (more may pass the check together, it is
     * not atomic); the others wait outside, spinning, until the line is shorter. FIFO locks hand
     * the lock to one particular waiter, and where vCPUs outnumber host cores (QEMU TCG, 255 vCPU
     * threads on 2 host cores) that waiter's thread is often descheduled: with every CPU in line
     * each hand-off waited for the host to schedule that thread, every CPU rejoined at the tail
     * after its turn, and the line never drained (a convoy: 95 ms per acquisition, 46 s for one
     * test at 255 CPUs). A short line drains after a few slow hand-offs. Every CPU still takes
     * its turns in the line with others waiting behind and before it.
     */
    public static final int LINE_LIMIT = 8;
    private static final long LOCK_BYTES = 128;

    public static void init(int cpuCount) {
        lockMemory = BootAllocator.allocate(LOCK_BYTES, 64);
        nodes = BootAllocator.allocate((long) McsLock.NODE_SIZE * cpuCount, 64);
        data = BootAllocator.allocate(64, 64);
    }

    public static long lock() {
        return lockMemory;
    }

    public static void reset() {
        for (int i = 0; i < LOCK_BYTES; i += 8) {
            Memory.store64(lockMemory + i, 0L);
        }
        Memory.store64(data + COUNTER, 0L);
        Memory.store64(data + SECOND, 0L);
        Memory.store32(data + INSIDE, 0);
        Memory.store32(data + VIOLATIONS, 0);
        Memory.store32(data + ROUNDS_DONE, 0);
        Memory.store32(data + IN_LINE, 0);
    }

    public static long counter() {
        return Memory.load64(data + COUNTER);
    }

    public static long second() {
        return Memory.load64(data + SECOND);
    }

    public static int violations() {
        return Memory.load32(data + VIOLATIONS);
    }

    private static void enter() {
        if (Atomic.fetchAdd32(data + INSIDE, 1) != 0) {
            Atomic.fetchAdd32(data + VIOLATIONS, 1);
        }
        Memory.store64(data + COUNTER, Memory.load64(data + COUNTER) + 1);
    }

    private static void leave() {
        Atomic.fetchAdd32(data + INSIDE, -1);
    }

    /** Waits until fewer than LINE_LIMIT CPUs are in line, then joins it (before taking the lock). */
    private static void joinLine() {
        while (Atomic.loadVolatile32(data + IN_LINE) >= LINE_LIMIT) {
            Cpu.pause();
        }
        Atomic.fetchAdd32(data + IN_LINE, 1);
    }

    /** After releasing the lock. */
    private static void leaveLine() {
        Atomic.fetchAdd32(data + IN_LINE, -1);
    }

    public static int ticket(int iterations, long deadline) {
        int i = 0;
        for (; i < iterations && (i < ACQUISITIONS_BEFORE_DEADLINE || Cpu.rdtsc() < deadline); i++) {
            joinLine();
            CountedTicketLock.lock(lockMemory);
            enter();
            leave();
            CountedTicketLock.unlock(lockMemory);
            leaveLine();
        }
        return i;
    }

    public static int mcs(int iterations, int cpu, long deadline) {
        int i = 0;
        for (; i < iterations && (i < ACQUISITIONS_BEFORE_DEADLINE || Cpu.rdtsc() < deadline); i++) {
            joinLine();
            CheckedMcsLock.lock(lockMemory, nodes, cpu);
            enter();
            leave();
            CheckedMcsLock.unlock(lockMemory, nodes, cpu);
            leaveLine();
        }
        return i;
    }

    /**
     * The interrupt-saving form: inside, interrupts must be off; after, the flag must be what it
     * was before (the APs run this with interrupts on, the boot CPU with them off, so both paths
     * of the restore are taken).
     */
    public static int irq(int iterations, long deadline) {
        int i = 0;
        for (; i < iterations && (i < ACQUISITIONS_BEFORE_DEADLINE || Cpu.rdtsc() < deadline); i++) {
            boolean before = InterruptFlag.enabled();
            joinLine();
            boolean saved = IrqSpinLock.lockIrqSave(lockMemory);
            if (InterruptFlag.enabled() || saved != before) {
                Atomic.fetchAdd32(data + VIOLATIONS, 1);
            }
            enter();
            leave();
            IrqSpinLock.unlockIrqRestore(lockMemory, saved);
            leaveLine();
            if (InterruptFlag.enabled() != before) {
                Atomic.fetchAdd32(data + VIOLATIONS, 1);
            }
        }
        return i;
    }

    public static int checkedTicket(int iterations, int cpu, long deadline) {
        int i = 0;
        for (; i < iterations && (i < ACQUISITIONS_BEFORE_DEADLINE || Cpu.rdtsc() < deadline); i++) {
            joinLine();
            CheckedSpinLock.lock(lockMemory, cpu);
            enter();
            leave();
            CheckedSpinLock.unlock(lockMemory, cpu);
            leaveLine();
        }
        return i;
    }

    /**
     * Seqlock: every fourth iteration writes both words (the writers' plain increments must not
     * be lost); the rest read them without locking and must never accept a pair that differs.
     */
    public static int seq(int iterations, int cpu, long deadline) {
        int i = 0;
        for (; i < iterations && (i < ACQUISITIONS_BEFORE_DEADLINE || Cpu.rdtsc() < deadline); i++) {
            if ((i + cpu) % 4 == 0) {
                joinLine();
                SeqLock.writeLock(lockMemory);
                enter();
                Memory.store64(data + SECOND, Memory.load64(data + SECOND) + 1);
                leave();
                SeqLock.writeUnlock(lockMemory);
                leaveLine();
            } else {
                long first;
                long second;
                int start;
                do {
                    start = SeqLock.readBegin(lockMemory);
                    first = Memory.load64(data + COUNTER);
                    second = Memory.load64(data + SECOND);
                } while (SeqLock.readRetry(lockMemory, start));
                if (first != second) {
                    Atomic.fetchAdd32(data + VIOLATIONS, 1);
                }
            }
        }
        return i;
    }

    /** Every fourth iteration writes (both words, which must stay equal); the rest read. */
    public static int rw(int iterations, int cpu, long deadline) {
        int i = 0;
        for (; i < iterations && (i < ACQUISITIONS_BEFORE_DEADLINE || Cpu.rdtsc() < deadline); i++) {
            if ((i + cpu) % 4 == 0) {
                joinLine();
                CheckedRwLock.writeLock(lockMemory, cpu);
                enter();
                Memory.store64(data + SECOND, Memory.load64(data + SECOND) + 1);
                leave();
                CheckedRwLock.writeUnlock(lockMemory, cpu);
                leaveLine();
            } else {
                joinLine();
                CheckedRwLock.readLock(lockMemory, cpu);
                if (Atomic.loadVolatile32(data + INSIDE) != 0
                        || Memory.load64(data + COUNTER) != Memory.load64(data + SECOND)) {
                    Atomic.fetchAdd32(data + VIOLATIONS, 1);
                }
                CheckedRwLock.readUnlock(lockMemory, cpu);
                leaveLine();
            }
        }
        return i;
    }

    /** Writes among the first iterations of CPU cpu's rwlock or seqlock workload. */
    public static long rwWrites(int iterations, int cpu) {
        long writes = 0;
        for (int i = 0; i < iterations; i++) {
            if ((i + cpu) % 4 == 0) {
                writes++;
            }
        }
        return writes;
    }

    public static int semaphore(int iterations, long deadline) {
        int i = 0;
        for (; i < iterations && (i < ACQUISITIONS_BEFORE_DEADLINE || Cpu.rdtsc() < deadline); i++) {
            joinLine();
            CountedSpinSemaphore.waitSpinning(lockMemory);
            enter();
            leave();
            CountedSpinSemaphore.post(lockMemory);
            leaveLine();
        }
        return i;
    }

    /**
     * Each round every CPU adds one and waits at the barrier; after it, the count must show every
     * CPU's arrival for this round; a second barrier keeps the next round's adds out of the check.
     */
    public static void barrier(int rounds, int parties) {
        for (int round = 0; round < rounds; round++) {
            Atomic.fetchAdd64(data + SECOND, 1L);
            SenseBarrier.await(lockMemory);
            if (Atomic.loadVolatile64(data + SECOND) != (long) parties * (round + 1)) {
                Atomic.fetchAdd32(data + VIOLATIONS, 1);
            }
            SenseBarrier.await(lockMemory);
        }
    }

    public static void initTicket() {
        CountedTicketLock.init(lockMemory);
    }

    public static void initMcs() {
        McsLock.init(lockMemory);
    }

    public static void initRw() {
        RwLock.init(lockMemory);
    }

    public static void initSemaphore() {
        CountedSpinSemaphore.init(lockMemory, 1);
    }

    public static void initIrq() {
        IrqSpinLock.init(lockMemory);
    }

    public static void initCheckedTicket() {
        CheckedSpinLock.init(lockMemory);
    }

    public static void initSeq() {
        SeqLock.init(lockMemory);
    }

    public static void initBarrier(int parties) {
        SenseBarrier.init(lockMemory, parties);
    }
}
