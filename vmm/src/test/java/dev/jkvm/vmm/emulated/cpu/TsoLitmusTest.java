package dev.jkvm.vmm.emulated.cpu;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * x86-TSO litmus tests (SDM Vol. 3 §8.2.3) with two threads on {@link PhysicalMemory}: message
 * passing never sees the flag without the data (§8.2.3.2, loads not reordered with loads, stores
 * not with stores); store buffering is allowed with plain stores (§8.2.3.4) but not when the
 * stores are locked (XCHG, §8.2.3.9); locked adds are atomic, also sub-word and split.
 */
class TsoLitmusTest {
    static final long DATA = 0x1000, FLAG = 0x2040, X = 0x3000, Y = 0x4080;

    @Test
    void messagePassingIsNeverReordered() throws Exception {
        TestMachine m = new TestMachine(1 << 20);
        PhysicalMemory mem = m.mem;
        final int n = 500_000;
        AtomicLong violations = new AtomicLong();
        AtomicLong seen = new AtomicLong();
        Thread writer = new Thread(() -> {
            for (int i = 1; i <= n; i++) {
                mem.write(DATA, 4, i);
                mem.write(FLAG, 4, i);
            }
        });
        Thread reader = new Thread(() -> {
            long last = 0;
            while (last < n) {
                long f = mem.read(FLAG, 4);
                long d = mem.read(DATA, 4);
                if (d < f) violations.incrementAndGet();
                if (f != last) seen.incrementAndGet();
                last = f;
            }
        });
        reader.start();
        writer.start();
        writer.join();
        reader.join();
        assertEquals(0, violations.get(), "the reader saw a flag before its data");
        System.out.println("message passing: " + seen.get() + " distinct flag values observed, 0 reorderings");
    }

    /**
     * Two threads run {@code rounds} store-buffering rounds, round i on its own pair of locations
     * (no per-round barrier, which would make the test crawl on a loaded host); returns how often
     * both loads of a round read 0. Whatever the interleaving, locked stores forbid that outcome.
     */
    private static int storeBuffering(PhysicalMemory mem, int rounds, boolean locked) throws Exception {
        long xs = 0x100000, ys = 0x400000;
        for (int i = 0; i < rounds; i++) {
            mem.write(xs + 8L * i, 4, 0);
            mem.write(ys + 8L * i, 4, 0);
        }
        long[] r1 = new long[rounds], r2 = new long[rounds];
        java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
        Thread a = new Thread(() -> {
            awaitQuietly(start);
            for (int i = 0; i < rounds; i++) {
                if (locked) mem.exchange(xs + 8L * i, 4, 1); else mem.write(xs + 8L * i, 4, 1);
                r1[i] = mem.read(ys + 8L * i, 4);
            }
        });
        Thread b = new Thread(() -> {
            awaitQuietly(start);
            for (int i = 0; i < rounds; i++) {
                if (locked) mem.exchange(ys + 8L * i, 4, 1); else mem.write(ys + 8L * i, 4, 1);
                r2[i] = mem.read(xs + 8L * i, 4);
            }
        });
        a.start();
        b.start();
        start.countDown();
        a.join();
        b.join();
        int both = 0;
        for (int i = 0; i < rounds; i++) if (r1[i] == 0 && r2[i] == 0) both++;
        return both;
    }

    private static void awaitQuietly(java.util.concurrent.CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void storeBufferingOnlyWithoutLockedStores() throws Exception {
        TestMachine m = new TestMachine(8 << 20);
        int plain = storeBuffering(m.mem, 200_000, false);
        int locked = storeBuffering(m.mem, 200_000, true);
        System.out.println("store buffering: r1 = r2 = 0 in " + plain + " of 200000 plain rounds (allowed), "
                + locked + " locked rounds (forbidden)");
        assertEquals(0, locked, "XCHG is a full barrier: both threads cannot read 0");
    }

    @Test
    void lockedAddsAreAtomicIncludingSubWordAndSplit() throws Exception {
        TestMachine m = new TestMachine(1 << 20);
        PhysicalMemory mem = m.mem;
        final int n = 100_000;
        Runnable body = () -> {
            for (int i = 0; i < n; i++) {
                mem.getAndAdd(0x100, 4, 1);      // aligned dword
                mem.getAndAdd(0x0FFE, 4, 1);     // split across a page (and a cache line)
            }
        };
        Thread t1 = new Thread(body), t2 = new Thread(body);
        // Sub-word neighbours in one word must not clobber each other.
        Thread lo = new Thread(() -> { for (int i = 0; i < n; i++) mem.getAndAdd(0x200, 2, 1); });
        Thread hi = new Thread(() -> { for (int i = 0; i < n; i++) mem.getAndAdd(0x202, 2, 1); });
        t1.start(); t2.start(); lo.start(); hi.start();
        t1.join(); t2.join(); lo.join(); hi.join();
        assertEquals(2L * n, mem.read(0x100, 4));
        assertEquals(2L * n, mem.read(0x0FFE, 4));
        assertEquals(n & 0xFFFF, mem.read(0x200, 2), "16-bit counter (wraps)");
        assertEquals(n & 0xFFFF, mem.read(0x202, 2));
        assertEquals(0, mem.read(0x204, 4), "neighbours untouched");
        assertEquals(0, mem.compareAndExchange(0x300, 1, 0, 5));
        assertEquals(5, mem.compareAndExchange(0x300, 1, 0, 9), "a failing CAS returns the old value");
        assertEquals(0, mem.compareAndExchange(0x301, 1, 0, 0x80));
        assertEquals(0x8005, mem.read(0x300, 2));
    }
}
