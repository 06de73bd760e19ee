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
        lock = arena.allocate(TicketSpinLock.SIZE, 64).address();
        TicketSpinLock.init(lock);
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
    }
}
