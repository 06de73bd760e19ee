package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The writer-priority reader-writer lock and its checked form on host threads. */
class RwLockTest {
    static final class Panicked extends RuntimeException {
    }

    private long lock;
    private long data;

    @BeforeEach
    void allocate() {
        Arena arena = HostCpus.sharedMemory();
        lock = arena.allocate(RwLock.SIZE, 64).address();
        data = arena.allocate(64, 64).address();
        RwLock.init(lock);
        Asm.hostDefine(SyncPanic.SYMBOL, args -> {
            throw new Panicked();
        });
        Console.hostClear();
    }

    /** Writers keep two words equal; readers must never see them differ, or a writer inside. */
    @Test
    void readersNeverSeeAHalfWrittenPairAndWritesAreNeverLost() throws Exception {
        int cpus = HostCpus.CORES;
        int perCpu = 10_000;
        HostCpus.run(cpus, cpu -> {
            for (int i = 0; i < perCpu; i++) {
                if ((i + cpu) % 4 == 0) {
                    RwLock.writeLock(lock);
                    assertEquals(0, Atomic.fetchAdd32(data + 16, 1));
                    Memory.store64(data, Memory.load64(data) + 1);
                    Memory.store64(data + 8, Memory.load64(data + 8) + 1);
                    Atomic.fetchAdd32(data + 16, -1);
                    RwLock.writeUnlock(lock);
                } else {
                    RwLock.readLock(lock);
                    assertEquals(0, Atomic.loadVolatile32(data + 16));
                    assertEquals(Memory.load64(data), Memory.load64(data + 8));
                    RwLock.readUnlock(lock);
                }
            }
        });
        long writes = 0;
        long reads = 0;
        for (int cpu = 0; cpu < cpus; cpu++) {
            for (int i = 0; i < perCpu; i++) {
                if ((i + cpu) % 4 == 0) {
                    writes++;
                } else {
                    reads++;
                }
            }
        }
        assertEquals(writes, Memory.load64(data));
        assertEquals(writes, LockStats.acquisitions(RwLock.writeStats(lock)));
        assertEquals(reads, LockStats.acquisitions(RwLock.readStats(lock)));
        assertEquals(0, RwLock.state(lock));
    }

    @Test
    void readersShareTheLock() {
        RwLock.readLock(lock);
        RwLock.readLock(lock);
        assertEquals(2, RwLock.state(lock));
        RwLock.readUnlock(lock);
        RwLock.readUnlock(lock);
        assertEquals(0, RwLock.state(lock));
    }

    /** With a reader inside and a writer waiting, a new reader waits until the writer is done. */
    @Test
    void aWaitingWriterKeepsNewReadersOut() throws Exception {
        RwLock.readLock(lock);
        AtomicBoolean writerDone = new AtomicBoolean();
        AtomicBoolean lateReaderSawWriterDone = new AtomicBoolean();
        Thread writer = new Thread(() -> {
            RwLock.writeLock(lock);
            writerDone.set(true);
            RwLock.writeUnlock(lock);
        });
        writer.setDaemon(true);
        writer.start();
        while (Atomic.loadVolatile32(lock + RwLock.WRITERS_WAITING) == 0) {
            Thread.onSpinWait();
        }
        Thread lateReader = new Thread(() -> {
            RwLock.readLock(lock);
            lateReaderSawWriterDone.set(writerDone.get());
            RwLock.readUnlock(lock);
        });
        lateReader.setDaemon(true);
        lateReader.start();
        // Give the late reader every chance to slip in ahead of the writer if it could.
        Thread.sleep(50);
        assertFalse(writerDone.get());
        assertEquals(1, RwLock.state(lock));
        RwLock.readUnlock(lock);
        writer.join();
        lateReader.join();
        assertTrue(lateReaderSawWriterDone.get());
        assertTrue(LockStats.contended(RwLock.readStats(lock)) >= 1);
        assertEquals(1, LockStats.contended(RwLock.writeStats(lock)));
    }

    @Test
    void checkedFormPanicsOnRecursionInEitherMode() {
        CheckedRwLock.readLock(lock, 3);
        assertEquals(1L << 3, CheckedRwLock.readers(lock));
        assertThrows(Panicked.class, () -> CheckedRwLock.readLock(lock, 3));
        assertTrue(Console.hostOutput().endsWith("that it already holds for reading (recursive locking deadlocks)\n"),
                Console.hostOutput());
        assertThrows(Panicked.class, () -> CheckedRwLock.writeLock(lock, 3));
        CheckedRwLock.readUnlock(lock, 3);
        CheckedRwLock.writeLock(lock, 4);
        assertEquals(4, CheckedRwLock.writer(lock));
        Console.hostClear();
        assertThrows(Panicked.class, () -> CheckedRwLock.readLock(lock, 4));
        assertTrue(Console.hostOutput().contains("already holds for writing"), Console.hostOutput());
        CheckedRwLock.writeUnlock(lock, 4);
        assertEquals(0, RwLock.state(lock));
    }

    /** CPUs 159 and 223 share bit 31 under a mod-64 shift: both read at once, and both release cleanly. */
    @Test
    void checkedFormTracksNoReaderBeyondCpu63() {
        CheckedRwLock.readLock(lock, 159);
        CheckedRwLock.readLock(lock, 223);
        assertEquals(0L, CheckedRwLock.readers(lock));
        CheckedRwLock.readUnlock(lock, 223);
        CheckedRwLock.readUnlock(lock, 159);
        assertEquals(0, RwLock.state(lock));
        CheckedRwLock.readLock(lock, 31);
        assertEquals(1L << 31, CheckedRwLock.readers(lock));
        CheckedRwLock.readUnlock(lock, 31);
    }

    @Test
    void checkedFormPanicsOnUnlockByANonHolder() {
        CheckedRwLock.writeLock(lock, 1);
        assertThrows(Panicked.class, () -> CheckedRwLock.writeUnlock(lock, 2));
        assertTrue(Console.hostOutput().contains("releases the write hold on rwlock"), Console.hostOutput());
        CheckedRwLock.writeUnlock(lock, 1);
        CheckedRwLock.readLock(lock, 1);
        Console.hostClear();
        assertThrows(Panicked.class, () -> CheckedRwLock.readUnlock(lock, 2));
        assertTrue(Console.hostOutput().contains("releases a read hold on rwlock"), Console.hostOutput());
        CheckedRwLock.readUnlock(lock, 1);
        assertEquals(0, RwLock.state(lock));
    }
}
