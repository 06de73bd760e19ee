package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Console;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckedSpinLockTest {
    /** What the host stand-in of the kernel's panic routine throws. */
    static final class Panicked extends RuntimeException {
    }

    private Arena arena;
    private long lock;

    @BeforeEach
    void allocate() {
        arena = HostCpus.sharedMemory();
        lock = arena.allocate(CheckedSpinLock.SIZE, 64).address();
        CheckedSpinLock.init(lock);
        Asm.hostDefine(SyncPanic.SYMBOL, args -> {
            throw new Panicked();
        });
        Console.hostClear();
    }

    @Test
    void recordsTheHolder() {
        assertEquals(TicketSpinLock.NO_OWNER, CheckedSpinLock.owner(lock));
        CheckedSpinLock.lock(lock, 7);
        assertEquals(7, CheckedSpinLock.owner(lock));
        CheckedSpinLock.unlock(lock, 7);
        assertEquals(TicketSpinLock.NO_OWNER, CheckedSpinLock.owner(lock));
        assertTrue(CheckedSpinLock.tryLock(lock, 3));
        assertEquals(3, CheckedSpinLock.owner(lock));
        CheckedSpinLock.unlock(lock, 3);
    }

    @Test
    void recursiveAcquisitionPanicsInsteadOfDeadlocking() {
        CheckedSpinLock.lock(lock, 2);
        assertThrows(Panicked.class, () -> CheckedSpinLock.lock(lock, 2));
        String message = Console.hostOutput();
        assertTrue(message.startsWith("panic: cpu 0x0000000000000002 acquires spinlock 0x"), message);
        assertTrue(message.contains(String.format("%016x", lock)), message);
        assertTrue(message.endsWith("that it already holds (recursive locking deadlocks)\n"), message);
        assertThrows(Panicked.class, () -> CheckedSpinLock.tryLock(lock, 2));
    }

    @Test
    void releasingAnotherCpusLockPanics() {
        CheckedSpinLock.lock(lock, 1);
        assertThrows(Panicked.class, () -> CheckedSpinLock.unlock(lock, 4));
        assertTrue(Console.hostOutput().contains("held by cpu 0x0000000000000001"), Console.hostOutput());
        CheckedSpinLock.unlock(lock, 1);
        Console.hostClear();
        assertThrows(Panicked.class, () -> CheckedSpinLock.unlock(lock, 1));
        assertTrue(Console.hostOutput().contains("held by cpu 0xffffffffffffffff"), Console.hostOutput());
    }

    @Test
    void otherCpusWaitRatherThanPanic() throws Exception {
        long[] counter = {0};
        HostCpus.run(HostCpus.CORES, cpu -> {
            for (int i = 0; i < 5_000; i++) {
                CheckedSpinLock.lock(lock, cpu);
                assertEquals(cpu, CheckedSpinLock.owner(lock));
                counter[0]++;
                CheckedSpinLock.unlock(lock, cpu);
            }
        });
        assertEquals(5_000L * HostCpus.CORES, counter[0]);
        assertEquals("", Console.hostOutput());
        long stats = CheckedSpinLock.stats(lock);
        assertEquals(5_000L * HostCpus.CORES, LockStats.acquisitions(stats));
        assertTrue(LockStats.spins(stats) >= LockStats.contended(stats));
    }

    @Test
    void countsTheWaitOfACpuQueuedBehindTheHolder() throws Exception {
        CheckedSpinLock.lock(lock, 0);
        Thread waiter = new Thread(() -> {
            CheckedSpinLock.lock(lock, 1);
            CheckedSpinLock.unlock(lock, 1);
        });
        waiter.setDaemon(true);
        waiter.start();
        while (TicketSpinLock.queueLength(lock) != 2) {
            Thread.onSpinWait();
        }
        Thread.sleep(5);
        CheckedSpinLock.unlock(lock, 0);
        waiter.join();
        assertTrue(CheckedSpinLock.tryLock(lock, 2));
        CheckedSpinLock.unlock(lock, 2);
        long stats = CheckedSpinLock.stats(lock);
        assertEquals(3, LockStats.acquisitions(stats), "lock, the waiter's lock, tryLock");
        assertEquals(1, LockStats.contended(stats));
        assertTrue(LockStats.spins(stats) >= 1);
    }
}
