package dev.jkvm.klib.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;

/**
 * Fuzz target (Jazzer) for the kernel's ACPI parsers on the host JVM: RSDP search, RSDT/XSDT
 * selection, MADT (Acpi.discover) and FADT plus the DSDT's \_S5 package (SoftOff.prepare).
 *
 * <p>An input is a list of chunks placed into a zeroed 32 MiB buffer that plays guest-physical
 * memory: byte 0 holds flags (bit 0: recompute the checksums of the RSDP and of every table the
 * root tables point at, so mutations get past checksum checks), byte 1 the boot CPU's APIC ID,
 * then per chunk a u32 physical address, a u16 length and the bytes. The seeds are the captured
 * QEMU and jkvm tables of src/test/resources/acpi in that form.
 *
 * <p>Invariants: no exception at all (the parsers report defects, they do not throw), every
 * memory access inside the buffers (checked by {@link CheckedKernel}), an outcome the API defines.
 */
class AcpiTablesFuzzTest {
    private static final long WINDOW = 32L << 20;
    private static final int CPUS = 1024;
    private static final CheckedKernel KERNEL = new CheckedKernel();
    private static final MemorySegment PHYSICAL;
    private static final MemorySegment TOPOLOGY;
    private static final MethodHandle DISCOVER = KERNEL.method("dev.jkvm.klib.kernel.acpi.Acpi", "discover", int.class,
            long.class, long.class, int.class, long.class);
    private static final MethodHandle PREPARE = KERNEL.method("dev.jkvm.klib.kernel.acpi.SoftOff", "prepare", int.class);
    private static final MethodHandle CLEAR = KERNEL.method("dev.jkvm.klib.rt.Console", "hostClear", void.class);
    private static final MethodHandle CPU_COUNT = KERNEL.method("dev.jkvm.klib.kernel.acpi.Topology", "cpuCount", int.class, long.class);
    private static final PrintStream QUIET = new PrintStream(java.io.OutputStream.nullOutputStream());
    /** What the last input gave, for the harness's own test. */
    static int lastCpuCount;
    static int lastSoftOffPath;
    /** Chunks written by the previous input, zeroed before the next. */
    private static final List<long[]> DIRTY = new ArrayList<>();

    static {
        try {
            PHYSICAL = Arena.global().allocate(WINDOW, 4096);
            MethodHandle bytesNeeded = KERNEL.method("dev.jkvm.klib.kernel.acpi.Topology", "bytesNeeded", long.class,
                    int.class, int.class, int.class, int.class);
            TOPOLOGY = Arena.global().allocate((long) bytesNeeded.invoke(CPUS, 16, 32, 16), 16);
            Bounds.allow(PHYSICAL);
            Bounds.allow(TOPOLOGY);
        } catch (Throwable e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void tables(byte[] input) throws Throwable {
        for (long[] d : DIRTY) PHYSICAL.asSlice(d[0], d[1]).fill((byte) 0);
        DIRTY.clear();
        if (input.length < 2) return;
        int flags = input[0];
        int bsp = input[1] & 0xFF;
        int at = 2;
        while (at + 6 <= input.length) {
            long address = Integer.toUnsignedLong(le32(input, at));
            int length = Math.min(le16(input, at + 4), input.length - at - 6);
            at += 6;
            address = address % (WINDOW - length);
            MemorySegment.copy(input, at, PHYSICAL, ValueLayout.JAVA_BYTE, address, length);
            DIRTY.add(new long[] {address, length});
            at += length;
        }
        if ((flags & 1) != 0) {
            List<long[]> touched = new ArrayList<>();
            ChecksumFixer.fix(PHYSICAL, DIRTY, touched);
            DIRTY.addAll(touched);
        }

        PrintStream out = System.out;
        System.setOut(QUIET);
        try {
            KERNEL.method("dev.jkvm.klib.kernel.acpi.Topology", "format", void.class, long.class, int.class, int.class,
                    int.class, int.class).invoke(TOPOLOGY.address(), CPUS, 16, 32, 16);
            CLEAR.invoke();
            int outcome = (int) DISCOVER.invoke(PHYSICAL.address(), WINDOW, bsp, TOPOLOGY.address());
            assertTrue(outcome >= 0 && outcome <= 2, "outcome " + outcome);
            int cpus = (int) CPU_COUNT.invoke(TOPOLOGY.address());
            assertTrue(cpus >= 1 && cpus <= CPUS, "cpus " + cpus);
            lastCpuCount = cpus;
            lastSoftOffPath = (int) PREPARE.invoke();
            CLEAR.invoke();
        } finally {
            System.setOut(out);
        }
    }

    static int le16(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8;
    }

    static int le32(byte[] b, int at) {
        return le16(b, at) | le16(b, at + 2) << 16;
    }
}
