package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.sync.HostCpus;
import dev.jkvm.klib.rt.Asm;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * A machine of host threads acting as CPUs around the SMP bookkeeping: the IPI sender binding
 * latches the vector in the target's simulated IRR (one bit, so IPIs coalesce as on a local
 * APIC), and each CPU takes its interrupt at poll points by running MailboxHandler. The TLB
 * instruction bindings log, per running CPU, which invalidation ran.
 */
final class SimulatedSmp implements AutoCloseable {
    static final int VECTOR = 0xF3;

    private static final ThreadLocal<Integer> RUNNING_CPU = ThreadLocal.withInitial(() -> -1);

    final int cpuCount;
    final Arena arena = HostCpus.sharedMemory();
    final long mailbox;
    final long calls;
    final long tlb;
    final AtomicLong ipisSent = new AtomicLong();
    final Queue<String> violations = new ConcurrentLinkedQueue<>();
    private final AtomicInteger[] irr;
    private final Queue<String>[] tlbLog;
    private final AtomicInteger[] otherReasons;

    @SuppressWarnings("unchecked")
    SimulatedSmp(int cpuCount, int fullFlushThreshold) {
        this.cpuCount = cpuCount;
        mailbox = arena.allocate(IpiMailbox.bytesFor(cpuCount), 64).address();
        calls = arena.allocate(CallFunction.bytesFor(cpuCount), 64).address();
        tlb = arena.allocate(TlbShootdown.bytesFor(cpuCount), 64).address();
        IpiMailbox.init(mailbox, cpuCount, VECTOR);
        CallFunction.init(calls, cpuCount, mailbox, tlb);
        TlbShootdown.init(tlb, cpuCount, fullFlushThreshold, mailbox, calls);
        irr = new AtomicInteger[cpuCount];
        tlbLog = new Queue[cpuCount];
        otherReasons = new AtomicInteger[cpuCount];
        for (int cpu = 0; cpu < cpuCount; cpu++) {
            irr[cpu] = new AtomicInteger();
            tlbLog[cpu] = new ConcurrentLinkedQueue<>();
            otherReasons[cpu] = new AtomicInteger();
        }
        Asm.hostDefine(IpiSend.SYMBOL, args -> {
            int target = (int) args[0];
            int kind = (int) args[1] - VECTOR;
            if (kind < 0 || kind >= IpiReason.KINDS) {
                violations.add("IPI with vector " + args[1]);
            }
            if (target < 0 || target >= cpuCount) {
                violations.add("IPI to cpu " + target + " of " + cpuCount);
            }
            ipisSent.incrementAndGet();
            irr[target].getAndUpdate(latched -> latched | 1 << kind);
            return 0;
        });
        Asm.hostDefine(TlbInvalidate.PAGE_SYMBOL, args -> log("invlpg " + Long.toHexString(args[0])));
        Asm.hostDefine(TlbInvalidate.ADDRESS_SPACE_SYMBOL, args -> log("reload cr3"));
        Asm.hostDefine(TlbInvalidate.ALL_SYMBOL, args -> log("toggle cr4.pge"));
    }

    private long log(String event) {
        tlbLog[runningCpu()].add(event);
        return 0;
    }

    /** The simulated CPU the calling host thread is. */
    static int runningCpu() {
        int cpu = RUNNING_CPU.get();
        if (cpu < 0) {
            throw new IllegalStateException("not on a simulated CPU thread");
        }
        return cpu;
    }

    /** TLB invalidations the CPU has run so far, in order. */
    List<String> tlbLog(int cpu) {
        return List.copyOf(tlbLog[cpu]);
    }

    /** Reasons MailboxHandler left to the kernel (RESCHEDULE, TIMER, PANIC) that reached the CPU. */
    int otherReasons(int cpu) {
        return otherReasons[cpu].get();
    }

    /**
     * An interrupt window: runs the mailbox handler if an IPI is latched for this CPU and returns
     * the reasons it left to the kernel (0 when no IPI was latched).
     */
    int poll(int cpu) {
        int latched = irr[cpu].getAndSet(0);
        if (latched == 0) {
            return 0;
        }
        int rest = MailboxHandler.handle(mailbox, calls, tlb, cpu, latched);
        otherReasons[cpu].getAndAccumulate(rest, (a, b) -> a | b);
        return rest;
    }

    /**
     * Runs the program on each listed CPU; a CPU that finishes keeps taking interrupts until all
     * have finished, then takes any last latched one.
     */
    void run(int[] cpus, IntConsumer program) throws InterruptedException {
        run(cpus, program, this::poll);
    }

    /** Like run(cpus, program), with interruptWindow(cpu) instead of poll(cpu) once a CPU is done. */
    void run(int[] cpus, IntConsumer program, IntConsumer interruptWindow) throws InterruptedException {
        AtomicInteger finished = new AtomicInteger();
        HostCpus.run(cpus, cpu -> {
            RUNNING_CPU.set(cpu);
            try {
                program.accept(cpu);
            } finally {
                finished.incrementAndGet();
            }
            while (finished.get() < cpus.length) {
                interruptWindow.accept(cpu);
                Thread.onSpinWait();
            }
            interruptWindow.accept(cpu);
        });
    }

    /** Allocates a CpuMask holding the given CPUs. */
    long mask(int... cpus) {
        long mask = arena.allocate(CpuMask.SIZE, 8).address();
        CpuMask.clearAll(mask);
        for (int cpu : cpus) {
            CpuMask.set(mask, cpu);
        }
        return mask;
    }

    /** Nothing to free: the memory comes from HostCpus.sharedMemory. */
    @Override
    public void close() {
    }
}
