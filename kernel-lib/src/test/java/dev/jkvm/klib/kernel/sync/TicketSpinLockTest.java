package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ticket lock on host threads sharing native memory (real VarHandle ordering). */
class TicketSpinLockTest {
    private Arena arena;
    private long lock;
    private long data;

    @BeforeEach
    void allocate() {
        arena = HostCpus.sharedMemory();
        lock = arena.allocate(64, 64).address();
        data = arena.allocate(64, 64).address();
        TicketSpinLock.init(lock);
    }

    @Test
    void contendedPlainIncrementsAreNeverLost() throws Exception {
        int cpus = HostCpus.CORES;
        int perCpu = 20_000;
        HostCpus.run(cpus, cpu -> {
            for (int i = 0; i < perCpu; i++) {
                TicketSpinLock.lock(lock);
                // A second CPU inside would show up here as a non-zero occupancy.
                assertEquals(0, Atomic.fetchAdd32(data + 8, 1));
                Memory.store64(data, Memory.load64(data) + 1);
                Atomic.fetchAdd32(data + 8, -1);
                TicketSpinLock.unlock(lock);
            }
        });
        assertEquals((long) cpus * perCpu, Memory.load64(data));
        assertFalse(TicketSpinLock.isLocked(lock));
    }

    @Test
    void waitersAcquireInTheOrderTheyArrived() throws Exception {
        int waiters = 6;
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        TicketSpinLock.lock(lock);
        List<Thread> threads = new ArrayList<>();
        // Start the waiters one at a time, each only after the previous one has drawn its ticket,
        // in an order unrelated to thread creation order or ids.
        int[] arrival = {3, 0, 5, 1, 4, 2};
        for (int i = 0; i < waiters; i++) {
            int id = arrival[i];
            Thread t = new Thread(() -> {
                TicketSpinLock.lock(lock);
                order.add(id);
                TicketSpinLock.unlock(lock);
            });
            t.setDaemon(true);
            t.start();
            threads.add(t);
            while (TicketSpinLock.queueLength(lock) != i + 2) {
                Thread.onSpinWait();
            }
        }
        TicketSpinLock.unlock(lock);
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(List.of(3, 0, 5, 1, 4, 2), order);
    }

    @Test
    void tryLockTakesOnlyAFreeLock() throws Exception {
        assertTrue(TicketSpinLock.tryLock(lock));
        assertTrue(TicketSpinLock.isLocked(lock));
        assertFalse(TicketSpinLock.tryLock(lock));
        Thread waiter = new Thread(() -> {
            TicketSpinLock.lock(lock);
            TicketSpinLock.unlock(lock);
        });
        waiter.start();
        while (TicketSpinLock.queueLength(lock) != 2) {
            Thread.onSpinWait();
        }
        TicketSpinLock.unlock(lock);
        waiter.join();
        assertFalse(TicketSpinLock.isLocked(lock));
        assertTrue(TicketSpinLock.tryLock(lock));
        TicketSpinLock.unlock(lock);
    }

    @Test
    void tryLockUnderContentionStillExcludes() throws Exception {
        HostCpus.run(HostCpus.CORES, cpu -> {
            int taken = 0;
            while (taken < 2_000) {
                if (TicketSpinLock.tryLock(lock)) {
                    assertEquals(0, Atomic.fetchAdd32(data + 8, 1));
                    Memory.store64(data, Memory.load64(data) + 1);
                    Atomic.fetchAdd32(data + 8, -1);
                    TicketSpinLock.unlock(lock);
                    taken++;
                } else {
                    Thread.onSpinWait();
                }
            }
        });
        assertEquals(2_000L * HostCpus.CORES, Memory.load64(data));
    }

    @Test
    void countersWrapAroundWithoutBreakingTheLock() {
        Memory.store32(lock + TicketSpinLock.NEXT_TICKET, -2);
        Memory.store32(lock + TicketSpinLock.NOW_SERVING, -2);
        for (int i = 0; i < 5; i++) {
            assertFalse(TicketSpinLock.isLocked(lock));
            TicketSpinLock.lock(lock);
            assertTrue(TicketSpinLock.isLocked(lock));
            assertFalse(TicketSpinLock.tryLock(lock));
            TicketSpinLock.unlock(lock);
        }
        assertEquals(3, Memory.load32(lock + TicketSpinLock.NOW_SERVING));
    }
}
