package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The counted semaphore as a mutex and as a two-unit pool on host threads. */
class CountedSpinSemaphoreTest {
    @Test
    void asAMutexNoUpdateIsLostAndEveryWaitIsCounted() throws Exception {
        long semaphore = HostCpus.sharedMemory().allocate(CountedSpinSemaphore.SIZE, 64).address();
        long data = HostCpus.sharedMemory().allocate(64, 64).address();
        CountedSpinSemaphore.init(semaphore, 1);
        int perCpu = 10_000;
        HostCpus.run(HostCpus.CORES, cpu -> {
            for (int i = 0; i < perCpu; i++) {
                CountedSpinSemaphore.waitSpinning(semaphore);
                assertEquals(0, Atomic.fetchAdd32(data + 8, 1));
                Memory.store64(data, Memory.load64(data) + 1);
                Atomic.fetchAdd32(data + 8, -1);
                CountedSpinSemaphore.post(semaphore);
            }
        });
        long total = (long) perCpu * HostCpus.CORES;
        assertEquals(total, Memory.load64(data));
        assertEquals(total, LockStats.acquisitions(CountedSpinSemaphore.stats(semaphore)));
        assertTrue(LockStats.spins(CountedSpinSemaphore.stats(semaphore)) >= LockStats.contended(CountedSpinSemaphore.stats(semaphore)));
        assertEquals(1, SpinSemaphore.count(semaphore));
    }

    @Test
    void anUncontendedWaitIsNotCountedAsContended() {
        long semaphore = HostCpus.sharedMemory().allocate(CountedSpinSemaphore.SIZE, 64).address();
        CountedSpinSemaphore.init(semaphore, 2);
        CountedSpinSemaphore.waitSpinning(semaphore);
        CountedSpinSemaphore.waitSpinning(semaphore);
        assertEquals(2, LockStats.acquisitions(CountedSpinSemaphore.stats(semaphore)));
        assertEquals(0, LockStats.contended(CountedSpinSemaphore.stats(semaphore)));
        assertEquals(0, SpinSemaphore.count(semaphore));
    }
}
