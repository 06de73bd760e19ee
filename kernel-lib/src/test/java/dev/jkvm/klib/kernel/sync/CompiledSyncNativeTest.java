package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.nativecode.NativeCode;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The compiled x86-64 form of the primitives, run natively on the host's cores by several host
 * threads at once: the same properties as the JVM-run tests, now checked against the machine
 * code the kernel will contain.
 */
@NativeCode
class CompiledSyncNativeTest {
    private static final int CPUS = HostCpus.CORES;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;

    private static NativeKernelCode code;
    private static MethodHandle lockInit;
    private static MethodHandle lockedIncrements;
    private static MethodHandle barrierInit;
    private static MethodHandle barrierRounds;
    private static MethodHandle semaphoreInit;
    private static MethodHandle semaphoreCycles;
    private static MethodHandle seqLockInit;
    private static MethodHandle seqLockCycles;

    @BeforeAll
    static void compile() {
        code = new NativeKernelCode(NativeSyncWorkload.class, TicketSpinLock.class, SenseBarrier.class,
                SpinSemaphore.class, SeqLock.class, CountedTicketLock.class, LockStats.class);
        lockInit = code.method(TicketSpinLock.class, "init", "(J)V", FunctionDescriptor.ofVoid(LONG));
        lockedIncrements = code.method(NativeSyncWorkload.class, "lockedIncrements", "(JJJI)I",
                FunctionDescriptor.of(INT, LONG, LONG, LONG, INT));
        barrierInit = code.method(SenseBarrier.class, "init", "(JI)V", FunctionDescriptor.ofVoid(LONG, INT));
        barrierRounds = code.method(NativeSyncWorkload.class, "barrierRounds", "(JJIII)I",
                FunctionDescriptor.of(INT, LONG, LONG, INT, INT, INT));
        semaphoreInit = code.method(SpinSemaphore.class, "init", "(JI)V", FunctionDescriptor.ofVoid(LONG, INT));
        semaphoreCycles = code.method(NativeSyncWorkload.class, "semaphoreCycles", "(JJII)I",
                FunctionDescriptor.of(INT, LONG, LONG, INT, INT));
        seqLockInit = code.method(SeqLock.class, "init", "(J)V", FunctionDescriptor.ofVoid(LONG));
        seqLockCycles = code.method(NativeSyncWorkload.class, "seqLockCycles", "(JJII)J",
                FunctionDescriptor.of(LONG, LONG, LONG, INT, INT));
    }

    @Test
    void compiledTicketLockLosesNoIncrement() throws Throwable {
        int times = 50_000;
        Arena arena = HostCpus.sharedMemory();
        long lock = arena.allocate(64, 64).address();
        long counter = arena.allocate(64, 64).address();
        long occupancy = arena.allocate(64, 64).address();
        lockInit.invokeExact(lock);
        AtomicInteger violations = new AtomicInteger();
        HostCpus.run(CPUS, cpu -> {
            try {
                violations.addAndGet((int) lockedIncrements.invokeExact(lock, counter, occupancy, times));
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals(0, violations.get(), "CPUs found another inside the critical section");
        assertEquals((long) CPUS * times, Memory.load64(counter));
        assertEquals(Memory.load32(lock + TicketSpinLock.NEXT_TICKET), Memory.load32(lock + TicketSpinLock.NOW_SERVING));
        assertEquals(CPUS * times, Memory.load32(lock + TicketSpinLock.NOW_SERVING));
    }

    @Test
    void compiledBarrierKeepsEveryoneInStep() throws Throwable {
        int rounds = 200;
        Arena arena = HostCpus.sharedMemory();
        long barrier = arena.allocate(64, 64).address();
        long progress = arena.allocate(CPUS * 64L, 64).address();
        barrierInit.invokeExact(barrier, CPUS);
        AtomicInteger violations = new AtomicInteger();
        HostCpus.run(CPUS, cpu -> {
            try {
                violations.addAndGet((int) barrierRounds.invokeExact(barrier, progress, cpu, CPUS, rounds));
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals(0, violations.get(), "a CPU was out of step after a barrier");
        assertEquals(2 * rounds, SenseBarrier.rounds(barrier));
        long stats = SenseBarrier.stats(barrier);
        assertEquals(2L * rounds * CPUS, LockStats.acquisitions(stats), "arrivals counted by the compiled barrier");
        assertTrue(LockStats.contended(stats) <= 2L * rounds * (CPUS - 1), "more waiters than non-last arrivals");
        assertTrue(LockStats.spins(stats) >= LockStats.contended(stats));
    }

    @Test
    void compiledSemaphoreConservesItsUnits() throws Throwable {
        int units = 2;
        Arena arena = HostCpus.sharedMemory();
        long semaphore = arena.allocate(64, 64).address();
        long inside = arena.allocate(64, 64).address();
        semaphoreInit.invokeExact(semaphore, units);
        AtomicInteger violations = new AtomicInteger();
        HostCpus.run(CPUS, cpu -> {
            try {
                violations.addAndGet((int) semaphoreCycles.invokeExact(semaphore, inside, units, 20_000));
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals(0, violations.get(), "more holders than units");
        assertEquals(units, SpinSemaphore.count(semaphore));
        assertEquals(0, Memory.load32(semaphore + SpinSemaphore.WAITERS));
    }

    /** The compiled seqlock counts exactly the retries its readers made, and every write. */
    @Test
    void compiledSeqLockCountsReaderRetriesAndWriterAcquisitions() throws Throwable {
        int times = 50_000;
        Arena arena = HostCpus.sharedMemory();
        long seqLock = arena.allocate(SeqLock.SIZE, 64).address();
        long data = arena.allocate(64, 64).fill((byte) 0).address();
        seqLockInit.invokeExact(seqLock);
        AtomicLong retries = new AtomicLong();
        HostCpus.run(CPUS, cpu -> {
            try {
                retries.addAndGet((long) seqLockCycles.invokeExact(seqLock, data, cpu, times));
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals(0, Memory.load32(data + 16), "a reader accepted a torn pair");
        assertEquals((long) times, Memory.load64(data));
        assertEquals(retries.get(), SeqLock.readRetries(seqLock), "retries made vs counted");
        assertEquals((long) times, LockStats.acquisitions(SeqLock.writerStats(seqLock)));
        assertEquals(2 * times, Memory.load32(seqLock + SeqLock.SEQUENCE));
    }
}
