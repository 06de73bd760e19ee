package dev.jkvm.klib.kernel.selftest;

import dev.jkvm.klib.kernel.cpu.CpuRecord;
import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.cpu.PerCpuArea;
import dev.jkvm.klib.kernel.cpu.PerCpuVariables;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.mm.KernelLayout;
import dev.jkvm.klib.kernel.mm.PageTables;
import dev.jkvm.klib.kernel.smp.ApStartup;
import dev.jkvm.klib.kernel.smp.CallFunction;
import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.smp.IdleCall;
import dev.jkvm.klib.kernel.smp.IpiHandlers;
import dev.jkvm.klib.kernel.smp.IpiMailbox;
import dev.jkvm.klib.kernel.smp.LapicIpiSender;
import dev.jkvm.klib.kernel.smp.RemoteCall;
import dev.jkvm.klib.kernel.smp.SmpState;
import dev.jkvm.klib.kernel.smp.TlbShootdown;
import dev.jkvm.klib.kernel.sync.CheckedSpinLock;
import dev.jkvm.klib.kernel.sync.CountedSpinSemaphore;
import dev.jkvm.klib.kernel.sync.CountedTicketLock;
import dev.jkvm.klib.kernel.sync.InterruptFlag;
import dev.jkvm.klib.kernel.sync.IrqSpinLock;
import dev.jkvm.klib.kernel.sync.LockStats;
import dev.jkvm.klib.kernel.sync.McsLock;
import dev.jkvm.klib.kernel.sync.RwLock;
import dev.jkvm.klib.kernel.sync.SenseBarrier;
import dev.jkvm.klib.kernel.sync.SeqLock;
import dev.jkvm.klib.kernel.sync.TicketSpinLock;
import dev.jkvm.klib.kernel.time.Delay;
import dev.jkvm.klib.kernel.time.PitCalibration;
import dev.jkvm.klib.kernel.trap.ExitCodes;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;

/**
 * The in-guest SMP self-test suite: once every AP is up, the boot CPU runs TESTS checks and
 * prints them as TAP on the console, with measurements as "# " comments, then exits through
 * isa-debug-exit with ExitCodes.SUCCESS when all passed and SELF_TEST_FAILED otherwise.
 *
 * It runs when the image was built with it (enableInImage, before the kernel is compiled: the
 * compiler stores the host value of builtIn in the image) or when the multiboot command line
 * contains "selftest". Ring-0 code is emulated slowly on some hosts, so the long-running parts
 * (round trips, the IPI storm) stop at a TSC deadline and print how much they did.
 */
public final class SelfTestSuite {
    private SelfTestSuite() {
    }

    public static final int TESTS = 18;

    /** CallFunctionDispatch ids of the suite's cross-CPU functions (CrossCalls uses small ones). */
    public static final int GANG_JOB = 100;
    public static final int MARK_PAIR = 101;
    public static final int STORM_SEND = 102;
    public static final int NOTHING = 103;
    public static final int PARK = 104;

    private static final int JOB_PAIRS = 1;
    private static final int JOB_TICKET = 2;
    private static final int JOB_MCS = 3;
    private static final int JOB_RW = 4;
    private static final int JOB_SEMAPHORE = 5;
    private static final int JOB_BARRIER = 6;
    private static final int JOB_PER_CPU = 8;
    private static final int JOB_IRQ = 9;
    private static final int JOB_CHECKED_TICKET = 10;
    private static final int JOB_SEQ = 11;
    private static final int JOB_CONSOLE = 12;
    /**
     * Lines each CPU prints at once in the console test, up to CONSOLE_LINE_TOTAL / n with n
     * CPUs but at least one: every line waits for the console lock, a FIFO ticket lock that each
     * holder keeps for a whole line (26 pauses), so the lines cost one lock hand-off each, and a
     * hand-off waits for the next holder's vCPU thread where vCPUs outnumber host cores (QEMU
     * TCG: 384 lines from 128 CPUs took 33 s on 2 host cores).
     */
    public static final int CONSOLE_LINES = 3;
    private static final int CONSOLE_LINE_TOTAL = 192;
    private static final long CONSOLE_PIECE_DELAY_US = 50;

    /**
     * The IPI storm's size, and how long it may take before it is scaled down: about 20 s on a
     * host that emulates ring 0 (each APIC register access is an emulated MSR write there),
     * well under a second under QEMU TCG or on bare-metal KVM.
     */
    public static final long STORM_IPIS = 100000;
    private static final long STORM_BUDGET_MS = 60000;
    /** How long after the budget the targets may take to handle what is still pending. */
    private static final long STORM_DRAIN_MS = 2000;
    /** The command line's "storm-ms=N" may set a shorter budget (tests on slow hosts). */
    private static final int ROUND_TRIPS = 1000;
    private static final long ROUND_TRIP_BUDGET_MS = 2000;
    private static final int SHOOTDOWNS = 20;
    /** Lock acquisitions per test over all CPUs (each CPU does its share). */
    private static final int LOCK_OPERATIONS = 240;
    /**
     * Each CPU's share is at least this many, so that with many CPUs (240 / n is 0 above 240
     * CPUs, 1 at 128) every CPU still takes the lock often enough to contend with the others.
     */
    private static final int MIN_LOCK_OPERATIONS_PER_CPU = 8;
    /**
     * Barrier rounds: BARRIER_ROUNDS, fewer from 65 CPUs on (BARRIER_ARRIVALS / n, at least
     * BARRIER_MIN_ROUNDS): every pass waits for the last CPU to arrive, and where vCPUs outnumber
     * host cores that is a turn of the host's scheduler over all vCPU threads (QEMU TCG on 2 host
     * cores: 0.67 s per pass at 128 CPUs, each round being two passes).
     */
    private static final int BARRIER_ROUNDS = 8;
    private static final int BARRIER_ARRIVALS = 512;
    private static final int BARRIER_MIN_ROUNDS = 2;
    /** Calls each CPU makes in the pair test once there are more CPUs than this plus one. */
    private static final int PAIR_TARGETS = 31;
    private static final long CALL_TIMEOUT_MS = 100;
    /** A virtual address outside the identity map, next to the one IpiChecks uses. */
    private static final long TEST_VA = (1L << 39) + (1L << 21);
    private static final long OLD_VALUE = 0x0123_4567_89AB_CDEFL;
    private static final long NEW_VALUE = 0x7EDC_BA98_7654_3210L;

    private static int builtIn;
    private static long matrix;
    /** Each CPU's targets in the pair test (a CpuMask per CPU). */
    private static long pairMasks;
    private static long samples;
    private static long stormState;
    private static long stormBudgetMs;
    private static long tscPerMs;
    private static int cpuCount;

    /**
     * Dynamic per-CPU variables (PerCpuVariables offsets), registered when the suite starts:
     * storm rounds sent, acquisitions a lock job made; and for
     * the per-CPU test a tag, a cache-line aligned variable and the CPU's own check result.
     */
    private static long rounds;
    private static long done;
    private static long tag;
    private static long line;
    private static long seenByGs;
    private static final long TAG = 0x7E57_0000_0000L;

    private static final int STORM_DEADLINE = 0;
    private static final int STORM_SENT = 8;
    private static final int PARKED = 16;
    private static final int LOCK_DEADLINE = 24;
    /**
     * How long a lock test may run; the workers stop taking the lock at this deadline, except
     * that each takes it at least Contention.ACQUISITIONS_BEFORE_DEADLINE times, so that with many
     * CPUs under a software CPU on a loaded host, where waking them all can take longer than the
     * budget, every CPU still contends more than once.
     */
    private static final long LOCK_BUDGET_MS = 3000;

    /** Host side, before SmpKernelImage.build(): compiles the suite in as switched on. */
    public static void enableInImage(boolean enabled) {
        builtIn = enabled ? 1 : 0;
    }

    /** Whether the image has the suite switched on, or the command line asks for it ("selftest"). */
    public static boolean enabled(boolean commandLineAsks) {
        return builtIn != 0 || commandLineAsks;
    }

    /**
     * Runs every test on the boot CPU and exits the machine; enabledMask: the CPUs ACPI enabled;
     * requestedStormMs: the command line's storm-ms= (0: the default budget).
     */
    public static void run(long enabledMask, long bringUpMicros, long requestedStormMs) {
        stormBudgetMs = STORM_BUDGET_MS;
        if (requestedStormMs > 0 && requestedStormMs < STORM_BUDGET_MS) {
            stormBudgetMs = requestedStormMs;
        }
        long suiteStart = Cpu.rdtsc();
        cpuCount = CpuRecord.count();
        tscPerMs = PitCalibration.tscTicksPerMs();
        if (tscPerMs <= 0) {
            tscPerMs = 1000000;
        }
        Gang.init();
        Contention.init(cpuCount);
        matrix = BootAllocator.allocate((long) cpuCount * cpuCount * 4, 64);
        pairMasks = BootAllocator.allocate((long) cpuCount * CpuMask.SIZE, 64);
        rounds = PerCpuVariables.register(8, 8);
        done = PerCpuVariables.register(8, 8);
        tag = PerCpuVariables.register(8, 8);
        line = PerCpuVariables.register(64, 64);
        seenByGs = PerCpuVariables.register(4, 4);
        samples = BootAllocator.allocate(ROUND_TRIPS * 8L, 64);
        stormState = BootAllocator.allocate(64, 64);
        int online = CpuMask.count(CpuRecord.onlineMask());

        Tap.plan(TESTS);
        Tap.comment();
        Console.print("jkvm smp selftest: ");
        Log.dec(online);
        Console.print(" cpus online, tsc ");
        Log.dec(tscPerMs);
        Console.print(" ticks/ms");
        Tap.end();
        Tap.comment();
        Console.print("bring-up: all cpus online ");
        Log.dec(bringUpMicros);
        Console.print(" us after the first INIT-SIPI-SIPI, ");
        Log.dec(suiteStart / (tscPerMs / 1000 > 0 ? tscPerMs / 1000 : 1));
        Console.print(" us on the tsc (time since reset where the vmm starts the tsc at 0)");
        Tap.end();

        int expected = CpuMask.count(enabledMask);
        Tap.begin(online == expected && ApStartup.timedOut() == 0, 1);
        Console.print("smp boot: every cpu online (");
        Log.dec(online);
        Console.print(" of ");
        Log.dec(expected);
        Console.print(")");
        Tap.end();

        apicIds(2);
        perCpuData(3);
        pairs(4);
        roundTrips();
        perCpuVariables(5);
        shootdown(6);
        locks(7);
        storm(15);
        console(16);
        remoteCalls(17);

        if (Tap.failures() == 0) {
            Tap.comment();
            Console.print("all ");
            Log.dec(TESTS);
            Console.print(" tests passed");
            Tap.end();
            ExitCodes.exit(ExitCodes.SUCCESS);
        }
        Tap.comment();
        Log.dec(Tap.failures());
        Console.print(" of ");
        Log.dec(TESTS);
        Console.print(" tests failed");
        Tap.end();
        ExitCodes.exit(ExitCodes.SELF_TEST_FAILED);
    }

    /** CallFunctionDispatch for the suite's ids (CrossCalls forwards the ids it does not know). */
    public static void runOnCpu(int functionId, long argument, int cpu) {
        if (functionId == GANG_JOB) {
            Gang.member(cpu);
        } else if (functionId == MARK_PAIR) {
            long cell = matrix + (argument * cpuCount + cpu) * 4;
            Memory.store32(cell, Memory.load32(cell) + 1);
        } else if (functionId == STORM_SEND) {
            stormSender(cpu, CpuRecord.onlineMask());
        } else if (functionId == PARK) {
            // Goes offline for good: out of the online mask, then halted with interrupts off.
            Cpu.cli();
            CpuMask.clear(CpuRecord.onlineMask(), cpu);
            Atomic.storeVolatile32(stormState + PARKED, cpu + 1);
            while (true) {
                Cpu.hlt();
            }
        }
    }

    /** A Gang job, on every online CPU at once. */
    public static void runJob(int job, int cpu) {
        long online = CpuRecord.onlineMask();
        int iterations = (int) Gang.argument();
        if (job == JOB_PAIRS) {
            // One call to all of this CPU's targets at once (an IPI to each, then one wait for all
            // completions): calling them one after the other took a wait per target, each for a
            // vCPU the host had to schedule (35 s at 255 CPUs under QEMU TCG on 2 host cores).
            int targets = pairTargets(CpuMask.count(online));
            long mask = pairMasks + (long) cpu * CpuMask.SIZE;
            CpuMask.clearAll(mask);
            int target = cpu;
            for (int i = 0; i < targets; i++) {
                target = nextOnline(online, target);
                CpuMask.set(mask, target);
            }
            CallFunction.callMany(SmpState.calls(), cpu, mask, MARK_PAIR, cpu);
        } else if (job == JOB_TICKET) {
            PerCpuVariables.write(done, Contention.ticket(iterations, lockDeadline()));
        } else if (job == JOB_MCS) {
            PerCpuVariables.write(done, Contention.mcs(iterations, cpu, lockDeadline()));
        } else if (job == JOB_RW) {
            PerCpuVariables.write(done, Contention.rw(iterations, cpu, lockDeadline()));
        } else if (job == JOB_SEMAPHORE) {
            PerCpuVariables.write(done, Contention.semaphore(iterations, lockDeadline()));
        } else if (job == JOB_IRQ) {
            // The APs run jobs with interrupts on (Gang, from their idle loops); the boot CPU runs
            // this one with them off, so both ways of the flag's restore are taken.
            boolean enabled = InterruptFlag.enabled();
            if (cpu == 0) {
                Cpu.cli();
            }
            PerCpuVariables.write(done, Contention.irq(iterations, lockDeadline()));
            if (cpu == 0 && enabled) {
                Cpu.sti();
            }
        } else if (job == JOB_CHECKED_TICKET) {
            PerCpuVariables.write(done, Contention.checkedTicket(iterations, cpu, lockDeadline()));
        } else if (job == JOB_SEQ) {
            PerCpuVariables.write(done, Contention.seq(iterations, cpu, lockDeadline()));
        } else if (job == JOB_PER_CPU) {
            tagOwnCopies(cpu);
        } else if (job == JOB_BARRIER) {
            Contention.barrier(iterations, CpuMask.count(online));
        } else if (job == JOB_CONSOLE) {
            consoleLines(cpu, iterations);
        }
    }

    /**
     * A Gang job: lines (at most CONSOLE_LINES) comment lines, each in 33 pieces (the letters one
     * call each, with a pause after each), so that CPUs printing at once would interleave inside
     * a line if the console let them. The suite cannot read its own output back; the host checks
     * the lines (it/'s SmpSelfTestTap).
     */
    private static void consoleLines(int cpu, int lines) {
        for (int i = 0; i < lines; i++) {
            Tap.comment();
            Console.print("console: cpu ");
            Log.dec(cpu);
            Console.print(" line ");
            Log.dec(i);
            Console.print(" ");
            for (int c = 'a'; c <= 'z'; c++) {
                Log.putc(c);
                // Each line takes a while, so the CPUs' lines overlap in time however the host
                // schedules them (a line printed faster than a host time slice never would).
                Delay.micros(CONSOLE_PIECE_DELAY_US);
            }
            Console.print(" end");
            Tap.end();
        }
    }

    /**
     * Every online CPU prints its lines (CONSOLE_LINES, fewer with many CPUs) at the same time (a
     * Gang job). Passes here when every CPU got through its lines; whether they came out whole
     * (issue 14: lines from different CPUs never interleave) is for the reader of the console:
     * each must read "# console: cpu C line L abc...xyz end", one for each CPU and L.
     */
    private static void console(int number) {
        long online = CpuRecord.onlineMask();
        int n = CpuMask.count(online);
        int lines = CONSOLE_LINE_TOTAL / n < 1 ? 1 : CONSOLE_LINE_TOTAL / n > CONSOLE_LINES ? CONSOLE_LINES
                : CONSOLE_LINE_TOTAL / n;
        Gang.run(JOB_CONSOLE, lines);
        Tap.begin(true, number);
        Console.print("console: ");
        Log.dec(lines);
        Console.print(" lines from each of ");
        Log.dec(CpuMask.count(online));
        Console.print(" cpus at once, each a whole line");
        Tap.end();
    }

    private static void apicIds(int number) {
        long online = CpuRecord.onlineMask();
        boolean ok = Lapic.id() == CpuRecord.apicId(0);
        int checked = 1;
        for (int cpu = CpuMask.next(online, 1); cpu >= 0; cpu = CpuMask.next(online, cpu + 1)) {
            long token = 0xA11C_0000L + cpu;
            CallFunction.callSingle(SmpState.calls(), 0, cpu, CrossCalls.RECORD, token);
            if (CrossCalls.result(cpu) != token || CrossCalls.apicSeen(cpu) != CpuRecord.apicId(cpu)) {
                ok = false;
                Tap.comment();
                Console.print("cpu ");
                Log.dec(cpu);
                Console.print(": madt apic id ");
                Log.dec(CpuRecord.apicId(cpu));
                Console.print(", its local apic reads ");
                Log.dec(CrossCalls.apicSeen(cpu));
                Tap.end();
            }
            checked++;
        }
        Tap.begin(ok, number);
        Console.print("smp boot: apic ids of ");
        Log.dec(checked);
        Console.print(" cpus match the madt topology");
        Tap.end();
    }

    private static void perCpuData(int number) {
        long online = CpuRecord.onlineMask();
        boolean ok = true;
        for (int cpu = CpuMask.next(online, 0); cpu >= 0; cpu = CpuMask.next(online, cpu + 1)) {
            int check = Memory.load32(SmpState.record(cpu) + SmpState.PER_CPU_CHECK);
            if (check != 0) {
                ok = false;
                Tap.comment();
                Console.print("cpu ");
                Log.dec(cpu);
                Console.print(": per-cpu check ");
                Log.hex(check);
                Tap.end();
            }
        }
        Tap.begin(ok, number);
        Console.print("smp boot: per-cpu data of every cpu (gs base, cpu index, apic id)");
        Tap.end();
    }

    /**
     * How many other CPUs each CPU calls in the pair test: every other one up to PAIR_TARGETS + 1
     * CPUs; beyond, its PAIR_TARGETS successors in CPU order (wrapping), so that every CPU still
     * sends to and receives from that many others at once while the calls, which are n * (n - 1)
     * for all pairs, stay linear in n (64,770 synchronous calls at 255 CPUs would take minutes
     * under a software CPU).
     */
    private static int pairTargets(int n) {
        return n - 1 < PAIR_TARGETS ? n - 1 : PAIR_TARGETS;
    }

    /** The next online CPU after cpu in index order, wrapping around. */
    private static int nextOnline(long online, int cpu) {
        int next = CpuMask.next(online, cpu + 1);
        return next >= 0 ? next : CpuMask.next(online, 0);
    }

    private static void pairs(int number) {
        for (long i = 0; i < (long) cpuCount * cpuCount; i++) {
            Memory.store32(matrix + i * 4, 0);
        }
        Gang.run(JOB_PAIRS, 0);
        long online = CpuRecord.onlineMask();
        int n = CpuMask.count(online);
        int targets = pairTargets(n);
        int delivered = 0;
        int wrong = 0;
        for (int from = CpuMask.next(online, 0); from >= 0; from = CpuMask.next(online, from + 1)) {
            for (int to = CpuMask.next(online, 0); to >= 0; to = CpuMask.next(online, to + 1)) {
                int seen = Memory.load32(matrix + ((long) from * cpuCount + to) * 4);
                int want = from != to && isPairTarget(online, from, to, targets) ? 1 : 0;
                if (seen == want && want == 1) {
                    delivered++;
                } else if (seen != want) {
                    wrong++;
                }
            }
        }
        Tap.begin(wrong == 0 && delivered == n * targets, number);
        if (targets == n - 1) {
            Console.print("ipi delivery between every pair of cpus (");
        } else {
            Console.print("ipi delivery from every cpu to its ");
            Log.dec(targets);
            Console.print(" successors (");
        }
        Log.dec(delivered);
        Console.print(" of ");
        Log.dec(n * targets);
        Console.print(" ordered pairs, all cpus sending at once)");
        Tap.end();
    }

    /** Whether to is among the first targets CPUs after from (pairTargets, nextOnline). */
    private static boolean isPairTarget(long online, int from, int to, int targets) {
        int target = from;
        for (int i = 0; i < targets; i++) {
            target = nextOnline(online, target);
            if (target == to) {
                return true;
            }
        }
        return false;
    }

    /** Boot CPU to each other CPU in turn: call-function IPI there, completion seen back here. */
    private static void roundTrips() {
        long online = CpuRecord.onlineMask();
        if (CpuMask.count(online) < 2) {
            Tap.comment();
            Console.print("ipi round trip: needs two cpus");
            Tap.end();
            return;
        }
        long deadline = Cpu.rdtsc() + ROUND_TRIP_BUDGET_MS * tscPerMs;
        int count = 0;
        int target = CpuMask.next(online, 1);
        while (count < ROUND_TRIPS && Cpu.rdtsc() < deadline) {
            long start = Cpu.rdtsc();
            CallFunction.callSingle(SmpState.calls(), 0, target, NOTHING, 0);
            Samples.set(samples, count, Cpu.rdtsc() - start);
            count++;
            target = CpuMask.next(online, target + 1);
            if (target < 0) {
                target = CpuMask.next(online, 1);
            }
        }
        Samples.sort(samples, count);
        Tap.comment();
        Console.print("ipi round trip: median ");
        Log.dec(Samples.quantile(samples, count, 500));
        Console.print(" tsc cycles, p99 ");
        Log.dec(Samples.quantile(samples, count, 990));
        Console.print(" (");
        Log.dec(count);
        Console.print(" round trips");
        if (count < ROUND_TRIPS) {
            Console.print(", stopped at the ");
            Log.dec(ROUND_TRIP_BUDGET_MS);
            Console.print(" ms budget");
        }
        Console.print(")");
        Tap.end();
    }

    /**
     * Flips TEST_VA between two pages; after each flip's shootdown every CPU must read the new
     * page's value (having read, and so possibly cached, the old translation just before).
     */
    private static void shootdown(int number) {
        long pageA = BootAllocator.pages(1);
        long pageB = BootAllocator.pages(1);
        Memory.store64(pageA, OLD_VALUE);
        Memory.store64(pageB, NEW_VALUE);
        long online = CpuRecord.onlineMask();
        int n = CpuMask.count(online);
        PageTables.map(TEST_VA, pageA);
        CallFunction.callMany(SmpState.calls(), 0, online, CrossCalls.READ, TEST_VA);
        int stale = 0;
        int flips = 0;
        long deadline = Cpu.rdtsc() + ROUND_TRIP_BUDGET_MS * tscPerMs;
        for (int i = 0; i < SHOOTDOWNS && (i < 2 || Cpu.rdtsc() < deadline); i++) {
            boolean toB = (i & 1) == 0;
            PageTables.map(TEST_VA, toB ? pageB : pageA);
            long start = Cpu.rdtsc();
            TlbShootdown.shootdown(SmpState.tlb(), 0, online, TEST_VA, 1, TlbShootdown.KERNEL_ASID);
            Samples.set(samples, i, Cpu.rdtsc() - start);
            CallFunction.callMany(SmpState.calls(), 0, online, CrossCalls.READ, TEST_VA);
            long want = toB ? NEW_VALUE : OLD_VALUE;
            for (int cpu = CpuMask.next(online, 0); cpu >= 0; cpu = CpuMask.next(online, cpu + 1)) {
                if (CrossCalls.valueRead(cpu) != want) {
                    stale++;
                }
            }
            flips++;
        }
        Tap.begin(stale == 0, number);
        Console.print("tlb shootdown: ");
        Log.dec(flips);
        Console.print(" remaps, every cpu read the new page after each (");
        Log.dec(stale);
        Console.print(" stale reads)");
        Tap.end();
        Samples.sort(samples, flips);
        Tap.comment();
        Console.print("tlb shootdown latency (1 page, ");
        Log.dec(n);
        Console.print(" cpus): median ");
        Log.dec(Samples.quantile(samples, flips, 500));
        Console.print(" tsc cycles, p99 ");
        Log.dec(Samples.quantile(samples, flips, 990));
        Tap.end();
    }

    private static long lockDeadline() {
        return Atomic.loadVolatile64(stormState + LOCK_DEADLINE);
    }

    /**
     * Runs one lock workload on every CPU, each doing its share of LOCK_OPERATIONS or stopping at
     * the budget's deadline; returns the acquisitions all CPUs made (what the counter must show).
     */
    private static long contend(int job, int iterations) {
        long online = CpuRecord.onlineMask();
        for (int cpu = CpuMask.next(online, 0); cpu >= 0; cpu = CpuMask.next(online, cpu + 1)) {
            Memory.store64(PerCpuVariables.of(cpu, done), 0L);
        }
        Atomic.storeVolatile64(stormState + LOCK_DEADLINE, Cpu.rdtsc() + LOCK_BUDGET_MS * tscPerMs);
        Gang.run(job, iterations);
        return PerCpuVariables.sum(done, online);
    }

    private static void handOff(long elapsed, long total, int n, long planned) {
        Console.print(", ");
        Log.dec(n);
        Console.print(" cpus contending): ");
        Log.dec(total > 0 ? elapsed / total : 0);
        Console.print(" tsc cycles per acquisition");
        if (total < planned) {
            Console.print(" (");
            Log.dec(total);
            Console.print(" of ");
            Log.dec(planned);
            Console.print(" acquisitions within the ");
            Log.dec(LOCK_BUDGET_MS);
            Console.print(" ms budget)");
        }
        Tap.end();
    }

    private static void locks(int first) {
        long online = CpuRecord.onlineMask();
        int n = CpuMask.count(online);
        int iterations = LOCK_OPERATIONS / n < MIN_LOCK_OPERATIONS_PER_CPU ? MIN_LOCK_OPERATIONS_PER_CPU
                : LOCK_OPERATIONS / n;
        long planned = (long) iterations * n;
        long lock = Contention.lock();

        Contention.reset();
        Contention.initTicket();
        long start = Cpu.rdtsc();
        long total = contend(JOB_TICKET, iterations);
        long elapsed = Cpu.rdtsc() - start;
        Tap.begin(total > 0 && Contention.counter() == total && Contention.violations() == 0
                && LockStats.acquisitions(CountedTicketLock.stats(lock)) == total, first);
        Console.print("ticket spinlock: ");
        lockResult(total);
        printStats(CountedTicketLock.stats(lock));
        Tap.comment();
        Console.print("lock hand-off (ticket");
        handOff(elapsed, total, n, planned);

        Contention.reset();
        Contention.initMcs();
        start = Cpu.rdtsc();
        total = contend(JOB_MCS, iterations);
        elapsed = Cpu.rdtsc() - start;
        Tap.begin(total > 0 && Contention.counter() == total && Contention.violations() == 0
                && LockStats.acquisitions(McsLock.stats(lock)) == total && !McsLock.isLocked(lock), first + 1);
        Console.print("mcs lock (checked): ");
        lockResult(total);
        printStats(McsLock.stats(lock));
        Tap.comment();
        Console.print("lock hand-off (mcs");
        handOff(elapsed, total, n, planned);

        Contention.reset();
        Contention.initRw();
        total = contend(JOB_RW, iterations);
        long writes = 0;
        for (int cpu = CpuMask.next(online, 0); cpu >= 0; cpu = CpuMask.next(online, cpu + 1)) {
            writes += Contention.rwWrites((int) Memory.load64(PerCpuVariables.of(cpu, done)), cpu);
        }
        Tap.begin(total > 0 && Contention.counter() == writes && Contention.second() == writes
                && Contention.violations() == 0
                && LockStats.acquisitions(RwLock.writeStats(lock)) == writes
                && LockStats.acquisitions(RwLock.readStats(lock)) == total - writes && RwLock.state(lock) == 0,
                first + 2);
        Console.print("rwlock (checked, writer priority): ");
        Log.dec(writes);
        Console.print(" writes, ");
        Log.dec(total - writes);
        Console.print(" reads from all cpus, no lost update, no torn read");
        Tap.end();
        Tap.comment();
        Console.print("rwlock reads: ");
        printStatsInline(RwLock.readStats(lock));
        Console.print("; writes: ");
        printStatsInline(RwLock.writeStats(lock));
        Tap.end();

        Contention.reset();
        Contention.initSemaphore();
        total = contend(JOB_SEMAPHORE, iterations);
        Tap.begin(total > 0 && Contention.counter() == total && Contention.violations() == 0
                && LockStats.acquisitions(CountedSpinSemaphore.stats(lock)) == total, first + 3);
        Console.print("counting semaphore (1 unit) as a mutex: ");
        lockResult(total);
        printStats(CountedSpinSemaphore.stats(lock));

        Contention.reset();
        Contention.initBarrier(n);
        int barrierRounds = BARRIER_ARRIVALS / n < BARRIER_MIN_ROUNDS ? BARRIER_MIN_ROUNDS
                : BARRIER_ARRIVALS / n > BARRIER_ROUNDS ? BARRIER_ROUNDS : BARRIER_ARRIVALS / n;
        Gang.run(JOB_BARRIER, barrierRounds);
        long barrierStats = SenseBarrier.stats(lock);
        Tap.begin(Contention.violations() == 0 && Contention.second() == (long) n * barrierRounds
                && LockStats.acquisitions(barrierStats) == 2L * n * barrierRounds, first + 4);
        Console.print("sense barrier: ");
        Log.dec(barrierRounds);
        Console.print(" rounds of ");
        Log.dec(n);
        Console.print(" cpus, nobody left a round early");
        Tap.end();
        Tap.comment();
        Console.print("sense barrier: ");
        Log.dec(LockStats.acquisitions(barrierStats));
        Console.print(" arrivals, ");
        Log.dec(LockStats.contended(barrierStats));
        Console.print(" waited, ");
        Log.dec(LockStats.spins(barrierStats));
        Console.print(" spin iterations");
        Tap.end();

        Contention.reset();
        Contention.initIrq();
        total = contend(JOB_IRQ, iterations);
        Tap.begin(total > 0 && Contention.counter() == total && Contention.violations() == 0
                && LockStats.acquisitions(IrqSpinLock.stats(lock)) == total, first + 5);
        Console.print("irq-saving spinlock (interrupts off inside, flag restored after): ");
        lockResult(total);
        printStats(IrqSpinLock.stats(lock));

        Contention.reset();
        Contention.initCheckedTicket();
        total = contend(JOB_CHECKED_TICKET, iterations);
        Tap.begin(total > 0 && Contention.counter() == total && Contention.violations() == 0
                && LockStats.acquisitions(CheckedSpinLock.stats(lock)) == total
                && CheckedSpinLock.owner(lock) == TicketSpinLock.NO_OWNER, first + 6);
        Console.print("ticket spinlock (checked): ");
        lockResult(total);
        printStats(CheckedSpinLock.stats(lock));

        Contention.reset();
        Contention.initSeq();
        total = contend(JOB_SEQ, iterations);
        writes = 0;
        for (int cpu = CpuMask.next(online, 0); cpu >= 0; cpu = CpuMask.next(online, cpu + 1)) {
            writes += Contention.rwWrites((int) Memory.load64(PerCpuVariables.of(cpu, done)), cpu);
        }
        Tap.begin(total > 0 && Contention.counter() == writes && Contention.second() == writes
                && Contention.violations() == 0 && LockStats.acquisitions(SeqLock.writerStats(lock)) == writes
                && Memory.load32(lock + SeqLock.SEQUENCE) == 2 * writes, first + 7);
        Console.print("seqlock: ");
        Log.dec(writes);
        Console.print(" writes, ");
        Log.dec(total - writes);
        Console.print(" lock-free reads from all cpus, no lost update, no torn read accepted");
        Tap.end();
        Tap.comment();
        Console.print("seqlock writers: ");
        printStatsInline(SeqLock.writerStats(lock));
        Console.print("; readers: ");
        Log.dec(SeqLock.readRetries(lock));
        Console.print(" retries, ");
        Log.dec(SeqLock.readSpins(lock));
        Console.print(" spin iterations waiting for a writer");
        Tap.end();
    }

    /** A Gang job: the CPU tags its own copies through GS and checks GS against its area. */
    private static void tagOwnCopies(int cpu) {
        int index = PerCpuArea.cpuIndex();
        PerCpuVariables.write(tag, TAG + index);
        for (int i = 0; i < 64; i += 8) {
            Memory.store64(PerCpuArea.thisCpu() + line + i, ~(TAG + index));
        }
        boolean agree = index == cpu && PerCpuVariables.read(tag) == Memory.load64(PerCpuArea.thisCpu() + tag)
                && PerCpuVariables.read(line + 56) == ~(TAG + index);
        Memory.store32(PerCpuArea.thisCpu() + seenByGs, agree ? 1 : 2);
    }

    /**
     * Variables registered when the suite started, after the APs were up: distinct, aligned,
     * inside the dynamic region of every area; each CPU writes its own copies through GS, the
     * boot CPU reads every CPU's copy by CPU index, and the storm's per-CPU round counters
     * summed over the CPUs must account for every ping later.
     */
    private static void perCpuVariables(int number) {
        long online = CpuRecord.onlineMask();
        long start = PerCpuVariables.regionStart();
        long end = start + PerCpuVariables.capacity();
        boolean layout = start == KernelLayout.get(KernelLayout.PER_CPU_TEMPLATE_SIZE)
                && rounds >= start && seenByGs + 4 <= end && PerCpuVariables.refused() == 0
                && rounds + 8 <= done && done + 8 <= tag && tag + 8 <= line
                && line + 64 <= seenByGs && tag % 8 == 0 && line % 64 == 0 && seenByGs % 4 == 0;
        for (int cpu = CpuMask.next(online, 0); cpu >= 0; cpu = CpuMask.next(online, cpu + 1)) {
            Memory.store64(PerCpuVariables.of(cpu, tag), 0L);
            Memory.store32(PerCpuVariables.of(cpu, seenByGs), 0);
        }
        Gang.run(JOB_PER_CPU, 0);
        int wrong = 0;
        int checked = 0;
        for (int cpu = CpuMask.next(online, 0); cpu >= 0; cpu = CpuMask.next(online, cpu + 1)) {
            long copy = PerCpuVariables.of(cpu, tag);
            if (Memory.load64(copy) != TAG + cpu || Memory.load32(PerCpuVariables.of(cpu, seenByGs)) != 1
                    || Memory.load64(PerCpuVariables.of(cpu, line)) != ~(TAG + cpu)
                    || (PerCpuVariables.of(cpu, line) & 63) != 0) {
                wrong++;
                Tap.comment();
                Console.print("cpu ");
                Log.dec(cpu);
                Console.print(": tag ");
                Log.hex(Memory.load64(copy));
                Console.print(", gs check ");
                Log.dec(Memory.load32(PerCpuVariables.of(cpu, seenByGs)));
                Tap.end();
            }
            checked++;
        }
        Tap.begin(layout && wrong == 0, number);
        Console.print("per-cpu variables registered at run time: ");
        Log.dec(checked);
        Console.print(" cpus wrote their own copies through gs, all read back by cpu index, ");
        Log.dec(wrong);
        Console.print(" wrong; offsets distinct and aligned in the dynamic region");
        Tap.end();
        Tap.comment();
        Console.print("per-cpu areas: ");
        Log.dec(start);
        Console.print(" static bytes, then ");
        Log.dec(PerCpuVariables.used());
        Console.print(" of ");
        Log.dec(PerCpuVariables.capacity());
        Console.print(" dynamic bytes registered");
        Tap.end();
    }

    private static void lockResult(long total) {
        Log.dec(Contention.counter());
        Console.print(" of ");
        Log.dec(total);
        Console.print(" acquisitions counted by the plain increments of all cpus, ");
        Log.dec(Contention.violations());
        Console.print(" overlapping holders");
        Tap.end();
    }

    private static void printStats(long stats) {
        Tap.comment();
        printStatsInline(stats);
        Tap.end();
    }

    private static void printStatsInline(long stats) {
        Log.dec(LockStats.acquisitions(stats));
        Console.print(" acquisitions, ");
        Log.dec(LockStats.contended(stats));
        Console.print(" contended, ");
        Log.dec(LockStats.spins(stats));
        Console.print(" spin iterations");
    }

    /**
     * One round: one PING to every other CPU. Senders do not wait for the targets: each ping is
     * an IPI on the wire and the targets, senders themselves, take them as interrupts meanwhile.
     */
    private static long pingsReceived(long online) {
        long sum = 0;
        for (int cpu = CpuMask.next(online, 0); cpu >= 0; cpu = CpuMask.next(online, cpu + 1)) {
            sum += IpiHandlers.pingsTaken(cpu);
        }
        return sum;
    }

    private static void stormSender(int cpu, long online) {
        long deadline = Atomic.loadVolatile64(stormState + STORM_DEADLINE);
        long mailbox = SmpState.mailbox();
        int count = CpuMask.count(online) - 1;
        // Three rounds in four use the broadcast shorthand when every CPU is online (it would
        // reach a withheld one too), one ICR write for all targets; the fourth sends one IPI per
        // target, so the storm covers both ways of sending.
        boolean broadcast = count + 1 == cpuCount;
        while (Atomic.loadVolatile64(stormState + STORM_SENT) < STORM_IPIS && Cpu.rdtsc() < deadline) {
            if (broadcast && (PerCpuVariables.read(rounds) & 3) != 0) {
                IpiMailbox.pingAllOthers(mailbox, cpu);
            } else {
                for (int target = CpuMask.next(online, 0); target >= 0; target = CpuMask.next(online, target + 1)) {
                    if (target != cpu) {
                        IpiMailbox.ping(mailbox, target);
                    }
                }
            }
            PerCpuVariables.add(rounds, 1);
            Atomic.fetchAdd64(stormState + STORM_SENT, count);
        }
    }

    /**
     * Every CPU pings every other, round after round, until STORM_IPIS pings were sent or the
     * budget is spent: the APs from their idle loops (IdleCall), the boot CPU from here, all with
     * interrupts enabled so each takes the others' IPIs while it sends. Then, once every target
     * has taken what is pending, each CPU must have counted exactly one ping per round of every
     * other CPU, however many of the IPIs its local APIC merged.
     */
    private static void storm(int number) {
        long online = CpuRecord.onlineMask();
        int n = CpuMask.count(online);
        for (int cpu = CpuMask.next(online, 0); cpu >= 0; cpu = CpuMask.next(online, cpu + 1)) {
            Memory.store64(PerCpuVariables.of(cpu, rounds), 0L);
            IpiHandlers.resetPingCounters(cpu);
        }
        Memory.store64(stormState + STORM_SENT, 0L);
        long start = Cpu.rdtsc();
        long deadline = start + stormBudgetMs * tscPerMs;
        Atomic.storeVolatile64(stormState + STORM_DEADLINE, deadline);
        if (n > 1) {
            int asked = IdleCall.start(STORM_SEND, 0, online, 0);
            stormSender(0, online);
            long late = deadline + STORM_DRAIN_MS * tscPerMs;
            while (IdleCall.finished() != asked && Cpu.rdtsc() < late) {
                Cpu.pause();
            }
            while (pingsReceived(online) != Atomic.loadVolatile64(stormState + STORM_SENT) && Cpu.rdtsc() < late) {
                Cpu.pause();
            }
        }
        long elapsed = Cpu.rdtsc() - start;
        long sent = 0;
        int mismatches = 0;
        long allRounds = PerCpuVariables.sum(rounds, online);
        long receivedTotal = 0;
        long handlerRuns = 0;
        for (int cpu = CpuMask.next(online, 0); cpu >= 0; cpu = CpuMask.next(online, cpu + 1)) {
            long own = Memory.load64(PerCpuVariables.of(cpu, rounds));
            long got = IpiHandlers.pingsTaken(cpu);
            handlerRuns += IpiHandlers.pingInterrupts(cpu);
            receivedTotal += got;
            sent += own * (n - 1);
            if (got != allRounds - own) {
                mismatches++;
            }
        }
        boolean ok = sent == receivedTotal && mismatches == 0 && sent == Memory.load64(stormState + STORM_SENT)
                && Lapic.ipiErrors() == 0 && LapicIpiSender.failures() == 0;
        Tap.begin(ok, number);
        Console.print("ipi storm: ");
        Log.dec(sent);
        Console.print(" ipis sent, ");
        Log.dec(receivedTotal);
        Console.print(" received, every cpu to every other");
        if (n < 2) {
            Console.print(" # SKIP needs two cpus");
        }
        Tap.end();
        Tap.comment();
        Console.print("ipi storm: ");
        Log.dec(sent);
        Console.print(" of ");
        Log.dec(STORM_IPIS);
        Console.print(" ipis in ");
        Log.dec(elapsed / tscPerMs);
        Console.print(" ms, taken by ");
        Log.dec(handlerRuns);
        Console.print(" handler runs (the local apics merged the rest; the per-cpu counts lost none)");
        if (n > 1 && sent < STORM_IPIS) {
            Console.print(", scaled down: stopped at the ");
            Log.dec(stormBudgetMs);
            Console.print(" ms budget");
        }
        Console.print("; apic ipi errors ");
        Log.dec(Lapic.ipiErrors());
        Tap.end();
    }

    /**
     * The last AP takes itself offline (PARK never returns, so the parking call itself ends LATE);
     * then a call to it must come back OFFLINE, and a call made with the old online mask, which
     * still lists it, must come back TIMEOUT with the request withdrawn.
     */
    private static void remoteCalls(int first) {
        long calls = SmpState.calls();
        long online = CpuRecord.onlineMask();
        long timeout = CALL_TIMEOUT_MS * tscPerMs;
        int victim = -1;
        for (int cpu = CpuMask.next(online, 1); cpu >= 0; cpu = CpuMask.next(online, cpu + 1)) {
            victim = cpu;
        }
        if (victim < 0) {
            int result = RemoteCall.call(calls, online, 0, 1, NOTHING, 0, timeout);
            Tap.begin(result == RemoteCall.OFFLINE, first);
            Console.print("remote call: a cpu that is not online is reported offline (result ");
            Log.dec(result);
            Console.print(")");
            Tap.end();
            Tap.begin(true, first + 1);
            Console.print("remote call: a cpu that does not answer times out # SKIP needs two cpus");
            Tap.end();
            return;
        }
        long oldMask = BootAllocator.allocate(CpuMask.SIZE, 8);
        CpuMask.copy(oldMask, online);
        Memory.store32(stormState + PARKED, 0);
        int parking = RemoteCall.call(calls, online, 0, victim, PARK, 0, timeout);
        long deadline = Cpu.rdtsc() + timeout;
        while (Atomic.loadVolatile32(stormState + PARKED) != victim + 1 && Cpu.rdtsc() < deadline) {
            Cpu.pause();
        }
        int offline = RemoteCall.call(calls, online, 0, victim, NOTHING, 0, timeout);
        int missing = RemoteCall.call(calls, online, 0, cpuCount, NOTHING, 0, timeout);
        Tap.begin(parking == RemoteCall.LATE && offline == RemoteCall.OFFLINE && missing == RemoteCall.OFFLINE, first);
        Console.print("remote call: cpu ");
        Log.dec(victim);
        Console.print(" took itself offline (parking call result ");
        Log.dec(parking);
        Console.print("), a call to it returns OFFLINE (result ");
        Log.dec(offline);
        Console.print(")");
        Tap.end();
        long start = Cpu.rdtsc();
        int silent = RemoteCall.call(calls, oldMask, 0, victim, NOTHING, 0, timeout);
        long waited = Cpu.rdtsc() - start;
        Tap.begin(silent == RemoteCall.TIMEOUT && waited >= timeout && RemoteCall.remaining(calls, 0) == 0, first + 1);
        Console.print("remote call: a halted cpu still listed online times out after ");
        Log.dec(waited / tscPerMs);
        Console.print(" ms (result ");
        Log.dec(silent);
        Console.print(", request withdrawn)");
        Tap.end();
    }
}
