package dev.jkvm.klib.kernel.selftest;

import dev.jkvm.klib.kernel.proc.KernelScheduler;
import dev.jkvm.klib.kernel.proc.TaskBodies;
import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.sched.BlockingSemaphore;
import dev.jkvm.klib.kernel.sched.Task;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * In-guest measurements for scripts/bench/sched ("test=sched-bench"), in TSC cycles, never
 * asserted: the cost of a context switch (two kernel tasks on one CPU yielding to each other;
 * a yield, the scheduler and the switch routine per switch) and the wake-up latency (from a
 * semaphore post on one CPU until the waiter runs, on another CPU when there is one), median and
 * 99th percentile over SAMPLES posts.
 */
public final class SchedBench {
    private SchedBench() {
    }

    public static final int YIELDS = 500;
    public static final int SAMPLES = 200;

    /** +0 semaphore (BlockingSemaphore.SIZE), +128 long post TSC, +136 long ready flag, +192 samples. */
    private static long state;

    public static boolean run(int cpuCount) {
        long a = KernelScheduler.spawnOn(TaskBodies.YIELDER, 0, KernelScheduler.NORMAL_PRIORITY, 0);
        long b = KernelScheduler.spawnOn(TaskBodies.YIELDER, 0, KernelScheduler.NORMAL_PRIORITY, 0);
        long cyclesA = KernelScheduler.waitForExit(a);
        long cyclesB = KernelScheduler.waitForExit(b);
        // Both spans cover (nearly) every switch of the pair: the longer one is the pair's time.
        long cycles = cyclesA > cyclesB ? cyclesA : cyclesB;
        long switches = Task.switches(a) + Task.switches(b);
        KernelScheduler.reap(a);
        KernelScheduler.reap(b);
        Console.print("sched bench: context switch ");
        Log.dec(switches == 0 ? 0 : cycles / switches);
        Console.print(" tsc cycles (yield + schedule + switch, ");
        Log.dec(switches);
        Console.print(" switches on cpu 0)\n");

        state = BootAllocator.allocate(192 + SAMPLES * 8L, 64);
        BlockingSemaphore.init(state, 0);
        int waiterCpu = cpuCount > 1 ? 1 : 0;
        long waiter = KernelScheduler.spawnOn(TaskBodies.WAKE_WAITER, 0, KernelScheduler.NORMAL_PRIORITY, waiterCpu);
        for (int i = 0; i < SAMPLES; i++) {
            while (Atomic.loadVolatile64(state + 136) != i + 1) {
                KernelScheduler.sleepMs(1);
            }
            KernelScheduler.sleepMs(1);
            Atomic.storeVolatile64(state + 128, Cpu.rdtsc());
            BlockingSemaphore.post(KernelScheduler.sched(), state);
        }
        KernelScheduler.join(waiter);
        long samples = state + 192;
        for (int i = 1; i < SAMPLES; i++) {
            long value = Memory.load64(samples + i * 8L);
            int j = i - 1;
            while (j >= 0 && Memory.load64(samples + j * 8L) > value) {
                Memory.store64(samples + (j + 1) * 8L, Memory.load64(samples + j * 8L));
                j--;
            }
            Memory.store64(samples + (j + 1) * 8L, value);
        }
        Console.print("sched bench: wake-up latency median ");
        Log.dec(Memory.load64(samples + (SAMPLES / 2) * 8L));
        Console.print(" p99 ");
        Log.dec(Memory.load64(samples + (SAMPLES * 99 / 100) * 8L));
        Console.print(" tsc cycles (post on cpu 0, waiter on cpu ");
        Log.dec(waiterCpu);
        Console.print(", ");
        Log.dec(SAMPLES);
        Console.print(" samples), tsc ");
        Log.dec(KernelScheduler.tscPerMs());
        Console.print(" cycles/ms\n");
        return true;
    }

    /** Body of YIELDER: yields YIELDS times; returns the TSC cycles that took. */
    public static long yielder() {
        long start = Cpu.rdtsc();
        for (int i = 0; i < YIELDS; i++) {
            KernelScheduler.yield();
        }
        return Cpu.rdtsc() - start;
    }

    /** Body of WAKE_WAITER: SAMPLES times, announces it waits, waits, records the latency. */
    public static long wakeWaiter() {
        for (int i = 0; i < SAMPLES; i++) {
            Atomic.storeVolatile64(state + 136, i + 1);
            BlockingSemaphore.down(KernelScheduler.sched(), state);
            Memory.store64(state + 192 + i * 8L, Cpu.rdtsc() - Atomic.loadVolatile64(state + 128));
        }
        return 0;
    }
}
