package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A waiter on an empty semaphore registers in the waiters field (the scheduler's future wake-up
 * hook relies on it, see SpinSemaphore), stays until a unit is posted, then takes it and
 * deregisters. PIT found awaitPost run by no test: every test posted before it waited.
 */
class SemaphoreWaiterTest {
    @Test
    void aWaiterRegistersTakesThePostedUnitAndDeregisters() throws Exception {
        long semaphore = HostCpus.sharedMemory().allocate(SpinSemaphore.SIZE, 64).address();
        SpinSemaphore.init(semaphore, 0);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread waiter = new Thread(() -> {
            try {
                SpinSemaphore.waitSpinning(semaphore);
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "waiter");
        waiter.setDaemon(true);
        waiter.start();
        // The waiter cannot leave before the post below, so once registered it is inside awaitPost.
        while (Memory.load32(semaphore + SpinSemaphore.WAITERS) != 1) {
            assertTrue(waiter.isAlive(), "the waiter left an empty semaphore");
            Thread.onSpinWait();
        }
        assertTrue(waiter.isAlive());
        assertEquals(0, SpinSemaphore.count(semaphore));
        SpinSemaphore.post(semaphore);
        waiter.join(120_000); // a guard against hanging the build, not a speed check
        assertNull(failure.get());
        assertTrue(!waiter.isAlive(), "the posted unit did not release the waiter");
        assertEquals(0, SpinSemaphore.count(semaphore), "the waiter took the unit");
        assertEquals(0, Memory.load32(semaphore + SpinSemaphore.WAITERS), "and deregistered");
    }
}
