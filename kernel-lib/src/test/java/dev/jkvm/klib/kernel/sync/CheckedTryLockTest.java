package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.HostArena;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The checked locks' non-blocking and shared paths: a tryLock that fails leaves the holder's
 * record alone, a recursive tryLock panics like a recursive lock, and the rwlock's reader mask
 * tracks each reader CPU separately. PIT found tryLock of CheckedMcsLock never run by a test and
 * CheckedRwLock's mask updates surviving a wrong shift.
 */
class CheckedTryLockTest {
    static final class Panicked extends RuntimeException {
    }

    @BeforeEach
    void panicThrows() {
        Asm.hostDefine(SyncPanic.SYMBOL, args -> {
            throw new Panicked();
        });
        Console.hostClear();
    }

    @Test
    void checkedSpinLockTryLock() {
        try (Arena arena = HostArena.ofConfined()) {
            long lock = arena.allocate(CheckedSpinLock.SIZE, 64).address();
            CheckedSpinLock.init(lock);
            assertTrue(CheckedSpinLock.tryLock(lock, 2));
            assertEquals(2, CheckedSpinLock.owner(lock));
            assertFalse(CheckedSpinLock.tryLock(lock, 3), "held by cpu 2");
            assertEquals(2, CheckedSpinLock.owner(lock), "a failed tryLock leaves the owner");
            assertThrows(Panicked.class, () -> CheckedSpinLock.tryLock(lock, 2));
            CheckedSpinLock.unlock(lock, 2);
            assertEquals(TicketSpinLock.NO_OWNER, CheckedSpinLock.owner(lock));
            assertTrue(CheckedSpinLock.tryLock(lock, 3));
            CheckedSpinLock.unlock(lock, 3);
            assertEquals(2, LockStats.acquisitions(CheckedSpinLock.stats(lock)));
        }
    }

    @Test
    void checkedMcsLockTryLock() {
        try (Arena arena = HostArena.ofConfined()) {
            long lock = arena.allocate(McsLock.SIZE, 64).address();
            long nodes = arena.allocate(McsLock.NODE_SIZE * 8L, 64).address();
            McsLock.init(lock);
            assertTrue(CheckedMcsLock.tryLock(lock, nodes, 3));
            assertEquals(3, CheckedMcsLock.owner(lock));
            assertTrue(McsLock.isLocked(lock));
            assertFalse(CheckedMcsLock.tryLock(lock, nodes, 4), "held by cpu 3");
            assertEquals(3, CheckedMcsLock.owner(lock), "a failed tryLock leaves the owner");
            assertThrows(Panicked.class, () -> CheckedMcsLock.tryLock(lock, nodes, 3));
            assertEquals(3, CheckedMcsLock.owner(lock));
            CheckedMcsLock.unlock(lock, nodes, 3);
            assertEquals(McsLock.NO_OWNER, CheckedMcsLock.owner(lock));
            assertFalse(McsLock.isLocked(lock));
            assertTrue(CheckedMcsLock.tryLock(lock, nodes, 4));
            assertEquals(4, CheckedMcsLock.owner(lock));
            CheckedMcsLock.unlock(lock, nodes, 4);
            assertFalse(McsLock.isLocked(lock));
            assertEquals(2, LockStats.acquisitions(McsLock.stats(lock)));
        }
    }

    @Test
    void checkedRwLockTracksEachReaderAndTheWriter() {
        try (Arena arena = HostArena.ofConfined()) {
            long lock = arena.allocate(RwLock.SIZE, 64).address();
            RwLock.init(lock);
            CheckedRwLock.readLock(lock, 3);
            CheckedRwLock.readLock(lock, 5);
            assertEquals((1L << 3) | (1L << 5), CheckedRwLock.readers(lock));
            assertEquals(2, RwLock.state(lock));
            CheckedRwLock.readUnlock(lock, 3);
            assertEquals(1L << 5, CheckedRwLock.readers(lock), "only cpu 3's bit cleared");
            assertEquals(1, RwLock.state(lock));
            assertThrows(Panicked.class, () -> CheckedRwLock.readUnlock(lock, 3));
            CheckedRwLock.readUnlock(lock, 5);
            assertEquals(0L, CheckedRwLock.readers(lock));
            assertEquals(0, RwLock.state(lock));

            CheckedRwLock.writeLock(lock, 6);
            assertEquals(RwLock.WRITER, RwLock.state(lock), "the writer holds the lock itself");
            assertEquals(6, CheckedRwLock.writer(lock));
            assertFalse(RwLock.state(lock) >= 0, "no reader may enter");
            CheckedRwLock.writeUnlock(lock, 6);
            assertEquals(RwLock.NO_OWNER, CheckedRwLock.writer(lock));
            assertEquals(0, RwLock.state(lock));
            assertEquals(1, LockStats.acquisitions(RwLock.writeStats(lock)));
        }
    }
}
