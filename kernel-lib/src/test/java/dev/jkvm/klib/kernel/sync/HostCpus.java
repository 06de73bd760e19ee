package dev.jkvm.klib.kernel.sync;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * Host threads standing in for CPUs: each runs the same body with its own CPU id, all start
 * together, and the first failure of any of them is rethrown to the test.
 */
public final class HostCpus {
    private HostCpus() {
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
        for (int cpu : cpuIds) {
            Thread t = new Thread(() -> {
                try {
                    body.accept(cpu);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "cpu-" + cpu);
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            // A guard against hanging the build, not a speed check: correct runs take well under a second.
            t.join(120_000);
            if (t.isAlive()) {
                throw new AssertionError(t.getName() + " still runs after 120 s: deadlock or lost wake-up"
                        + (failure.get() == null ? "" : " after a failure: " + failure.get()), failure.get());
            }
        }
        if (failure.get() != null) {
            throw new AssertionError("a simulated CPU failed: " + failure.get(), failure.get());
        }
    }
}
