package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.HostArena;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * Host threads standing in for CPUs: each runs the same body with its own CPU id, all start
 * together once every thread exists, and the first failure of any of them is rethrown to the test.
 */
public final class HostCpus {
    private HostCpus() {
    }

    /**
     * Threads for lock-contention tests: as many as the machine has cores (at least 2, at most
     * 4). A ticket lock hands over in FIFO order, so with more spinning threads than cores a
     * preempted next-in-line thread stalls every waiter for a scheduler time slice, each handover.
     */
    public static final int CORES = Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors()));

    /**
     * Native memory for simulated CPUs, never freed: when a test fails, threads stuck in a spin
     * loop keep using its addresses, and once a later test is given the same block again
     * (HostAddressSpace cannot tell the two apart) they would corrupt it. Tests allocate little.
     */
    public static Arena sharedMemory() {
        return HostArena.global();
    }

    public static void run(int cpus, IntConsumer body) throws InterruptedException {
        int[] ids = new int[cpus];
        for (int i = 0; i < cpus; i++) {
            ids[i] = i;
        }
        run(ids, body);
    }

    public static void run(int[] cpuIds, IntConsumer body) throws InterruptedException {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        // Released together, so that the bodies overlap instead of running one after another.
        CountDownLatch start = new CountDownLatch(cpuIds.length);
        for (int cpu : cpuIds) {
            Thread t = new Thread(() -> {
                try {
                    start.countDown();
                    start.await();
                    body.accept(cpu);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "cpu-" + cpu);
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
        // A guard against hanging the build, not a speed check: correct runs take well under a
        // second. Once one CPU failed, the others may wait for it forever: report after a grace period.
        long deadline = System.nanoTime() + 120_000_000_000L;
        long failedAt = 0;
        for (Thread t : threads) {
            while (t.isAlive()) {
                t.join(100);
                if (failure.get() != null && failedAt == 0) {
                    failedAt = System.nanoTime();
                }
                boolean graceOver = failedAt != 0 && System.nanoTime() - failedAt > 2_000_000_000L;
                if (t.isAlive() && (graceOver || System.nanoTime() > deadline)) {
                    throw new AssertionError(t.getName() + " still runs: deadlock or lost wake-up"
                            + (failure.get() == null ? "" : " after a failure: " + failure.get()), failure.get());
                }
            }
        }
        if (failure.get() != null) {
            throw new AssertionError("a simulated CPU failed: " + failure.get(), failure.get());
        }
    }
}
