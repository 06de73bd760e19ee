package dev.jkvm.vmm.emulated.irq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The timer thread: fires due sources in deadline order, drops re-armed entries, stops on close. */
class PlatformTimerTest {
    /** A source armed at one deadline that records when it was ticked. */
    private static final class Source implements TimerSource {
        volatile long deadline = Long.MAX_VALUE;
        final AtomicInteger ticks = new AtomicInteger();
        final CountDownLatch fired = new CountDownLatch(1);

        @Override public long nextDeadline() { return deadline; }

        @Override public void tick(long now) {
            if (now < deadline) return;
            deadline = Long.MAX_VALUE;
            ticks.incrementAndGet();
            fired.countDown();
        }
    }

    @Test
    void firesWhenGuestTimePassesTheDeadlineAndDropsStaleEntries() throws InterruptedException {
        FakeClock clock = new FakeClock();
        Source a = new Source();
        Source b = new Source();
        try (PlatformTimer timer = new PlatformTimer(clock).start()) {
            a.deadline = 5_000;
            timer.schedule(a, 5_000);
            b.deadline = 1_000;
            timer.schedule(b, 1_000);
            b.deadline = 50_000;        // re-armed later: the 1 µs entry is stale
            timer.schedule(b, 50_000);
            clock.set(10_000);
            assertTrue(a.fired.await(30, TimeUnit.SECONDS), "a fires once guest time passed 5 µs");
            assertEquals(0, b.ticks.get(), "b's stale entry did not tick it");
            clock.set(60_000);
            assertTrue(b.fired.await(30, TimeUnit.SECONDS));
            assertEquals(1, a.ticks.get());
            assertEquals(1, b.ticks.get());
        }
    }

    @Test
    void closeStopsTheThread() {
        PlatformTimer timer = new PlatformTimer(new FakeClock()).start();
        timer.close();
        boolean alive = Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals("jkvm-platform-timer") && t.isAlive());
        assertTrue(!alive, "no platform timer thread left running");
    }
}
