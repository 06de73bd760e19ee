package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The MCS lock, its statistics and its checked form on host threads sharing native memory. */
class McsLockTest {
    static final class Panicked extends RuntimeException {
    }

    private static final int MAX_CPUS = 8;
    private long lock;
    private long nodes;
    private long data;

    @BeforeEach
    void allocate() {
        Arena arena = HostCpus.sharedMemory();
        lock = arena.allocate(McsLock.SIZE, 64).address();
        nodes = arena.allocate((long) McsLock.NODE_SIZE * MAX_CPUS, 64).address();
        data = arena.allocate(64, 64).address();
        McsLock.init(lock);
        Asm.hostDefine(SyncPanic.SYMBOL, args -> {
            throw new Panicked();
        });
        Console.hostClear();
    }

    @Test
    void contendedPlainIncrementsAreNeverLostAndEveryAcquisitionIsCounted() throws Exception {
        int cpus = HostCpus.CORES;
        int perCpu = 20_000;
        HostCpus.run(cpus, cpu -> {
            long node = McsLock.nodeFor(nodes, cpu);
            for (int i = 0; i < perCpu; i++) {
                McsLock.lock(lock, node);
                assertEquals(0, Atomic.fetchAdd32(data + 8, 1));
                Memory.store64(data, Memory.load64(data) + 1);
                Atomic.fetchAdd32(data + 8, -1);
                McsLock.unlock(lock, node);
            }
        });
        assertEquals((long) cpus * perCpu, Memory.load64(data));
        assertFalse(McsLock.isLocked(lock));
        long stats = McsLock.stats(lock);
        assertEquals((long) cpus * perCpu, LockStats.acquisitions(stats));
        assertTrue(LockStats.contended(stats) <= LockStats.acquisitions(stats));
        assertTrue(LockStats.spins(stats) >= LockStats.contended(stats));
    }

    @Test
    void waitersAcquireInTheOrderTheyQueued() throws Exception {
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        long holder = McsLock.nodeFor(nodes, 7);
        McsLock.lock(lock, holder);
        int[] arrival = {3, 0, 5, 1, 4, 2};
        List<Thread> threads = new ArrayList<>();
        for (int id : arrival) {
            long node = McsLock.nodeFor(nodes, id);
            Thread t = new Thread(() -> {
                McsLock.lock(lock, node);
                order.add(id);
                McsLock.unlock(lock, node);
            });
            t.setDaemon(true);
            t.start();
            threads.add(t);
            // Queued once it is the tail: the next thread only starts after that.
            while (Atomic.loadVolatile64(lock + McsLock.TAIL) != node) {
                Thread.onSpinWait();
            }
        }
        McsLock.unlock(lock, holder);
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(List.of(3, 0, 5, 1, 4, 2), order);
        long stats = McsLock.stats(lock);
        assertEquals(7, LockStats.acquisitions(stats));
        assertEquals(6, LockStats.contended(stats));
    }

    @Test
    void tryLockTakesOnlyAFreeLock() {
        assertTrue(McsLock.tryLock(lock, McsLock.nodeFor(nodes, 0)));
        assertFalse(McsLock.tryLock(lock, McsLock.nodeFor(nodes, 1)));
        McsLock.unlock(lock, McsLock.nodeFor(nodes, 0));
        assertFalse(McsLock.isLocked(lock));
        assertEquals(1, LockStats.acquisitions(McsLock.stats(lock)));
        assertEquals(0, LockStats.contended(McsLock.stats(lock)));
    }

    @Test
    void checkedFormPanicsOnRecursionAndForeignUnlock() {
        CheckedMcsLock.lock(lock, nodes, 2);
        assertEquals(2, CheckedMcsLock.owner(lock));
        assertThrows(Panicked.class, () -> CheckedMcsLock.lock(lock, nodes, 2));
        assertTrue(Console.hostOutput().contains("acquires mcs lock 0x" + String.format("%016x", lock)),
                Console.hostOutput());
        Console.hostClear();
        assertThrows(Panicked.class, () -> CheckedMcsLock.unlock(lock, nodes, 5));
        assertTrue(Console.hostOutput().contains("held by cpu 0x0000000000000002"), Console.hostOutput());
        CheckedMcsLock.unlock(lock, nodes, 2);
        assertEquals(McsLock.NO_OWNER, CheckedMcsLock.owner(lock));
        assertFalse(McsLock.isLocked(lock));
    }

    @Test
    void checkedFormLetsOtherCpusWait() throws Exception {
        long[] counter = {0};
        HostCpus.run(HostCpus.CORES, cpu -> {
            for (int i = 0; i < 5_000; i++) {
                CheckedMcsLock.lock(lock, nodes, cpu);
                assertEquals(cpu, CheckedMcsLock.owner(lock));
                counter[0]++;
                CheckedMcsLock.unlock(lock, nodes, cpu);
            }
        });
        assertEquals(5_000L * HostCpus.CORES, counter[0]);
        assertEquals("", Console.hostOutput());
    }

    @Test
    void countedTicketLockCountsEveryAcquisition() throws Exception {
        long ticket = HostCpus.sharedMemory().allocate(CountedTicketLock.SIZE, 64).address();
        CountedTicketLock.init(ticket);
        int perCpu = 10_000;
        HostCpus.run(HostCpus.CORES, cpu -> {
            for (int i = 0; i < perCpu; i++) {
                CountedTicketLock.lock(ticket);
                Memory.store64(data + 16, Memory.load64(data + 16) + 1);
                CountedTicketLock.unlock(ticket);
            }
        });
        long total = (long) perCpu * HostCpus.CORES;
        assertEquals(total, Memory.load64(data + 16));
        assertEquals(total, LockStats.acquisitions(CountedTicketLock.stats(ticket)));
        assertFalse(TicketSpinLock.isLocked(ticket));
    }
}
