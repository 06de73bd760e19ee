package dev.jkvm.klib.kernel.cpu;

import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Atomic;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Memory;

/**
 * Per-CPU variables that kernel code registers while it runs, next to the compile-time @PerCpu
 * fields: the small form of Linux's dynamic per-CPU allocator. Every per-CPU area ends in a
 * dynamic region of PerCpuArea.DYNAMIC_BYTES, zeroed when the area is created; register hands
 * out an offset into it, the same in every area, so one number names one variable on every CPU.
 *
 * The accessors reach this CPU's copy GS-relative (one instruction in a leaf routine:
 * mov rax, gs:[rdi] / mov gs:[rdi], rsi / add gs:[rdi], rsi). An add is a single instruction,
 * so an interrupt on the same CPU cannot split it: a counter that interrupt handlers update
 * needs no locked instruction as long as only its own CPU writes it (Intel SDM Vol. 3A 6.6:
 * interrupts are taken between instructions). of(cpu, offset) gives another CPU's copy, for
 * summing or for the boot CPU to set values before that CPU runs.
 *
 * Registration may happen at any time, also after the APs started: every area already has the
 * region's full capacity, zeroed before its CPU ran, and offsets are bump-allocated with a CAS
 * and never reused, so a new variable reads 0 on every CPU and nobody else owns its bytes. A
 * request the region cannot satisfy gets 0 (never a valid variable: offset 0 is the area's self
 * pointer) and one boot-log line naming the fix.
 *
 * State (STATE_SIZE bytes, one cache line, given to init):
 * <pre>
 *   +0  long next      first offset not handed out yet
 *   +8  long end       offset one past the region
 *   +16 long start     offset of the region (the static part's size)
 *   +24 long refused   requests answered with 0
 * </pre>
 */
public final class PerCpuVariables {
    private PerCpuVariables() {
    }

    public static final int STATE_SIZE = 64;
    private static final int NEXT = 0;
    private static final int END = 8;
    private static final int START = 16;
    private static final int REFUSED = 24;

    /** Leaf routines: rdi = offset in the area, rsi = value; read returns the value in rax. */
    public static final String READ_SYMBOL = "kernel_percpu_read";
    public static final String WRITE_SYMBOL = "kernel_percpu_write";
    public static final String ADD_SYMBOL = "kernel_percpu_add";

    private static long state;

    /**
     * Boot CPU, before any registration: the region starts at regionOffset in every area (past
     * the static part, so compile-time offsets do not move) and holds capacity bytes.
     */
    public static void init(long stateMemory, long regionOffset, long capacity) {
        state = stateMemory;
        Memory.store64(state + NEXT, regionOffset);
        Memory.store64(state + END, regionOffset + capacity);
        Memory.store64(state + START, regionOffset);
        Memory.store64(state + REFUSED, 0L);
    }

    /**
     * Reserves bytes in every CPU's area, aligned to alignment (a power of two up to the
     * area's own alignment, PerCpuArea.ALIGNMENT); returns the variable's offset, or 0.
     */
    public static long register(long bytes, long alignment) {
        if (state == 0) {
            Console.print("percpu: variable registered before CpuResources.prepare made the areas (register later)\n");
            return 0;
        }
        if (bytes <= 0 || alignment <= 0 || alignment > PerCpuArea.ALIGNMENT || (alignment & (alignment - 1)) != 0) {
            Atomic.fetchAdd64(state + REFUSED, 1L);
            Console.print("percpu: refused a variable of ");
            Log.dec(bytes);
            Console.print(" bytes aligned to ");
            Log.dec(alignment);
            Console.print(" (sizes must be positive, alignments a power of two up to 64, the areas' own)\n");
            return 0;
        }
        while (true) {
            long next = Atomic.loadVolatile64(state + NEXT);
            long at = (next + alignment - 1) & -alignment;
            long end = at + bytes;
            long limit = Memory.load64(state + END);
            if (end > limit || end < at) {
                Atomic.fetchAdd64(state + REFUSED, 1L);
                Console.print("percpu: dynamic region full: ");
                Log.dec(bytes);
                Console.print(" bytes requested, ");
                Log.dec(limit - next);
                Console.print(" of ");
                Log.dec(limit - Memory.load64(state + START));
                Console.print(" left (raise PerCpuArea.DYNAMIC_BYTES)\n");
                return 0;
            }
            if (Atomic.compareAndSet64(state + NEXT, next, end)) {
                return at;
            }
        }
    }

    /** This CPU's copy of a 64-bit variable. */
    public static long read(long offset) {
        return Asm.call(READ_SYMBOL, offset);
    }

    public static void write(long offset, long value) {
        Asm.call(WRITE_SYMBOL, offset, value);
    }

    /** Adds to this CPU's copy with one instruction: safe against this CPU's interrupts, not against other CPUs. */
    public static void add(long offset, long delta) {
        Asm.call(ADD_SYMBOL, offset, delta);
    }

    /** Address of CPU cpu's copy (its area, as the boot CPU recorded it in CpuRecord). */
    public static long of(int cpu, long offset) {
        return CpuRecord.area(cpu) + offset;
    }

    /** Sum of a 64-bit variable over the CPUs in a CpuMask (a snapshot: each copy read once). */
    public static long sum(long offset, long mask) {
        long total = 0;
        for (int cpu = CpuMask.next(mask, 0); cpu >= 0; cpu = CpuMask.next(mask, cpu + 1)) {
            total += Atomic.loadVolatile64(of(cpu, offset));
        }
        return total;
    }

    /** Bytes of the region handed out so far. */
    public static long used() {
        return Atomic.loadVolatile64(state + NEXT) - Memory.load64(state + START);
    }

    public static long capacity() {
        return Memory.load64(state + END) - Memory.load64(state + START);
    }

    /** Offset of the region in every area. */
    public static long regionStart() {
        return Memory.load64(state + START);
    }

    public static long refused() {
        return Atomic.loadVolatile64(state + REFUSED);
    }
}
