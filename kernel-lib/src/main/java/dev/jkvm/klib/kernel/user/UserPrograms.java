package dev.jkvm.klib.kernel.user;

import dev.jkvm.klib.image.ImageBuilder;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;

/**
 * The programs user tasks run: static methods compiled into the user-mode part of the image
 * (build.UserSpaceBuild), entered in ring 3; each returns its task's exit value. Their numbers
 * index the entry table the build writes. WORKLOAD is the image's own workload method
 * (workload.UserWorkload), called with the task's argument as its index.
 */
public final class UserPrograms {
    private UserPrograms() {
    }

    public static final int HELLO = 0;
    public static final int WORKLOAD = 1;
    public static final int TOUCH_KERNEL = 2;
    public static final int DIVIDE_BY_ZERO = 3;
    public static final int PRODUCER = 4;
    public static final int CONSUMER = 5;
    public static final int SLEEPER = 6;
    public static final int SPIN = 7;
    public static final int COUNT = 8;

    /** Where the kernel's text starts: a supervisor-only page a user task must not read. */
    public static final long KERNEL_TEXT = ImageBuilder.DEFAULT_LOAD_ADDRESS + 4096;
    /** Items the producer passes to the consumer in the ring-3 task checks. */
    public static final int ITEMS = 50;
    /**
     * Items in the default workload's pair: each hand-off is a block, a wake-up and a switch, which
     * take milliseconds where ring 0 is emulated: serial work that would blur the scaling figure.
     */
    public static final int WORKLOAD_ITEMS = 10;
    public static final int SEM_ITEMS = 0;
    public static final int SEM_SLOTS = 1;

    /** The one-item buffer of the producer and consumer (user data). */
    private static long slot;

    public static long hello() {
        Console.print("user: hello from ring 3\n");
        return Sys.taskId() == 0 ? -1 : Sys.cpuId() + 1000;
    }

    public static long touchKernel() {
        return Memory.load64(KERNEL_TEXT);
    }

    public static long divideByZero() {
        long zero = Sys.argument();
        return 100 / zero;
    }

    /** Passes 1 .. argument through a one-item buffer guarded by two counting semaphores. */
    public static long producer() {
        long items = Sys.argument();
        for (int i = 1; i <= items; i++) {
            Sys.semWait(SEM_SLOTS);
            slot = i;
            Sys.semPost(SEM_ITEMS);
        }
        return items;
    }

    /** Takes argument items from the producer; returns the sum of what it received. */
    public static long consumer() {
        long items = Sys.argument();
        long sum = 0;
        for (int i = 1; i <= items; i++) {
            Sys.semWait(SEM_ITEMS);
            sum += slot;
            Sys.semPost(SEM_SLOTS);
        }
        return sum;
    }

    /** Sleeps argument milliseconds three times; returns how many sleeps it did. */
    public static long sleeper() {
        long ms = Sys.argument();
        int sleeps = 0;
        for (int i = 0; i < 3; i++) {
            Sys.sleep(ms);
            sleeps++;
        }
        return sleeps;
    }

    /** Spins for argument iterations, returning a checksum (CPU time for fairness tests). */
    public static long spin() {
        long n = Sys.argument();
        long x = 1;
        for (long i = 0; i < n; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
        }
        return x;
    }
}
