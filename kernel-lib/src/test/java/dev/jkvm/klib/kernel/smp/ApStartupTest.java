package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.mm.HostMemory;
import dev.jkvm.klib.arch.Efer;
import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.kernel.boot.TrampolineParameters;
import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.cpu.CpuRecord;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.mm.KernelLayout;
import dev.jkvm.klib.kernel.mm.PageTables;
import dev.jkvm.klib.kernel.sync.InterruptFlag;
import dev.jkvm.klib.kernel.time.Delay;
import dev.jkvm.klib.kernel.trap.Vectors;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.HostAddressSpace;
import dev.jkvm.klib.rt.HostArena;
import dev.jkvm.klib.rt.Memory;
import dev.jkvm.klib.rt.Msr;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The boot CPU's side of AP bring-up (ApStartup.startAll) on the host, against SimulatedAps that
 * answer the INIT and STARTUP IPIs and read the trampoline's parameter block as ApTrampoline's
 * code does. Until this test it only ran in a booting guest, where no mutant reaches it. The
 * trampoline page is host memory granted at its fixed physical address (0x8000); the parameter
 * block of the image copied there is garbage, so every field the boot CPU must write is checked
 * by an AP that reads it. Timeouts are shortened by calibrating Delay's TSC rate below the host
 * clock's; no assertion depends on how long anything took.
 */
class ApStartupTest {
    private static final int X2APIC_LVT_TIMER = 0x800 + (Lapic.LVT_TIMER >>> 4);
    private static final int X2APIC_TIMER_INITIAL = 0x800 + (Lapic.TIMER_INITIAL >>> 4);
    private static final long AP_ENTRY = 0x12345670L;
    private static final long IMAGE = 0x100000;
    /** Delay's TSC rate that makes every timeout 100 times shorter on the host clock (ns). */
    private static final long FAST = 10_000;
    private static final long REAL = 1_000_000;

    private final SimulatedAps aps = new SimulatedAps();
    private final List<String> lapicTimer = new ArrayList<>();
    private final Map<Integer, Long> savedMsrs = new HashMap<>();
    private Arena trampolineArena;
    private MemorySegment trampolinePage;
    private MemorySegment image;
    private long root;
    private int timedOutBefore;

    @BeforeEach
    void setUp() {
        assumeTrue(HostAddressSpace.CHECKED, "the trampoline page at 0x8000 needs the checked host memory mode");
        savedMsrs.putAll(Msr.hostMsrs());
        MemorySegment ram = HostArena.global().allocate(1 << 20, 4096).fill((byte) 0xA5);
        BootAllocator.init(ram.address(), ram.address() + ram.byteSize());
        HostMemory.defineRoutines();
        Asm.hostDefine("kernel_wait_for_interrupt", args -> {
            Cpu.sti();
            aps.waitTick();
            return 0;
        });
        // The trampoline image as linked: code, zero stage bytes, then a parameter block that here
        // holds garbage (in the image it is zero) so that a field startAll forgot shows.
        image = HostArena.global().allocate(4096, 4096).fill((byte) 0x90);
        image.asSlice(TrampolineParameters.STAGES, TrampolineParameters.BLOCK - TrampolineParameters.STAGES).fill((byte) 0);
        image.asSlice(TrampolineParameters.BLOCK, 4096 - TrampolineParameters.BLOCK).fill((byte) 0xA5);
        trampolineArena = Arena.ofConfined();
        trampolinePage = trampolineArena.allocate(4096, 4096).fill((byte) 0x5A);
        HostAddressSpace.grantAt(TrampolineParameters.ADDRESS, trampolinePage);
        MemorySegment layout = HostArena.global().allocate(KernelLayout.ENTRIES * 8L, 8).fill((byte) 0);
        layout.setAtIndex(ValueLayout.JAVA_LONG, KernelLayout.IMAGE_START, IMAGE);
        layout.setAtIndex(ValueLayout.JAVA_LONG, KernelLayout.TEXT_START, IMAGE + 0x1000);
        layout.setAtIndex(ValueLayout.JAVA_LONG, KernelLayout.TEXT_END, IMAGE + 0x3000);
        layout.setAtIndex(ValueLayout.JAVA_LONG, KernelLayout.RODATA_END, IMAGE + 0x4000);
        layout.setAtIndex(ValueLayout.JAVA_LONG, KernelLayout.TRAMPOLINE, image.address());
        layout.setAtIndex(ValueLayout.JAVA_LONG, KernelLayout.TRAMPOLINE_SIZE, 4096);
        layout.setAtIndex(ValueLayout.JAVA_LONG, KernelLayout.AP_ENTRY, AP_ENTRY);
        long layoutAddress = layout.address();
        Asm.hostDefine(KernelLayout.SYMBOL, args -> layoutAddress);
        Lapic.chooseMode(true, 0L);
        Msr.hostObserveWrites((msr, value) -> {
            aps.msrWritten(msr, value);
            if (msr == X2APIC_LVT_TIMER) {
                lapicTimer.add("lvt " + Long.toHexString(value));
            } else if (msr == X2APIC_TIMER_INITIAL) {
                lapicTimer.add("initial " + value);
            }
        });
        Asm.hostDefine(InterruptFlag.READ_RFLAGS_SYMBOL, args -> Cpu.hostInterruptsEnabled() ? InterruptFlag.RFLAGS_IF : 0);
        Asm.hostDefine("kernel_putc", args -> {
            Console.print(String.valueOf((char) args[0]));
            return 0;
        });
        Console.hostClear();
        timedOutBefore = ApStartup.timedOut();
        startedCount(0);
    }

    /**
     * startAll runs once per boot, so it counts the APs that left the trampoline in a static that
     * it never resets; each test here is a boot of its own.
     */
    private static void startedCount(int value) {
        try {
            Field field = ApStartup.class.getDeclaredField("startedCount");
            field.setAccessible(true);
            field.setInt(null, value);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    @AfterEach
    void tearDown() {
        if (!HostAddressSpace.CHECKED) {
            return;
        }
        Msr.hostObserveWrites(null);
        Msr.hostMsrs().clear();
        Msr.hostMsrs().putAll(savedMsrs);
        Lapic.chooseMode(false, 0L);
        Delay.calibrated(REAL);
        Cpu.cli();
        trampolineArena.close();
    }

    /** Page tables built with or without NX, so CR3 and EFER.NXE in the block have values to check. */
    private void pageTables(boolean noExecute) {
        MemorySegment pool = HostArena.global().allocate(16 * 4096, 4096);
        PageTables.usePool(pool.address(), 16);
        root = PageTables.build(64L << 20, 2L << 20, noExecute);
    }

    /** CPU records for these APIC IDs (CPU 0 the boot CPU), each with its own stack top; SmpState for them. */
    private static void machine(int... apicIds) {
        CpuRecord.allocate(apicIds.length);
        for (int cpu = 0; cpu < apicIds.length; cpu++) {
            CpuRecord.set(cpu, apicIds[cpu], 0x200000L + cpu * 0x1000L, 0x7000_0000L + cpu * 0x10000L);
        }
        SmpState.allocate(apicIds.length);
    }

    private static long enabled(int... cpus) {
        long mask = HostArena.global().allocate(CpuMask.SIZE, 8).address();
        CpuMask.clearAll(mask);
        for (int cpu : cpus) {
            CpuMask.set(mask, cpu);
        }
        return mask;
    }

    private static final String WAKE = "all-but-self mode 0 vector " + Integer.toHexString(Vectors.WAKE);

    @Test
    void everyEnabledApGetsInitThenOneSipiReadsTheBlockAndComesOnline() {
        pageTables(true);
        Delay.calibrated(FAST);
        machine(0, 2, 5, 9);
        SimulatedAps.Ap[] ap = {null, aps.add(1, 2), aps.add(2, 5), aps.add(3, 9)};

        assertEquals(4, ApStartup.startAll(4, enabled(0, 1, 2, 3)));

        assertEquals(List.of("init 2", "init 5", "init 9", "sipi 2 vector 8", "sipi 5 vector 8", "sipi 9 vector 8", WAKE),
                aps.icr, "INIT to all, then one SIPI each (each wrote its stage byte at once), then the release's wake-up");
        for (int cpu = 1; cpu < 4; cpu++) {
            assertEquals(cpu, ap[cpu].foundCpu, "CPU index from the APIC table, apic " + ap[cpu].apicId);
            assertEquals(CpuRecord.stackTop(cpu), ap[cpu].foundStack, "stack from the stack table");
            assertEquals(root, ap[cpu].cr3);
            assertEquals(1L << 5, ap[cpu].cr4, "CR4.PAE");
            assertEquals(Efer.LME | Efer.NXE, ap[cpu].efer);
            assertEquals(AP_ENTRY, ap[cpu].entry);
            assertTrue(CpuMask.contains(CpuRecord.onlineMask(), cpu));
            assertEquals(BootStage.READY, SmpState.stage(cpu));
            assertEquals(0, Memory.load32(SmpState.record(cpu) + SmpState.TRAMPOLINE_TIMED_OUT));
        }
        assertEquals(0, ApStartup.timedOut() - timedOutBefore);
        assertTrue(SmpState.released());
        assertEquals("", Console.hostOutput());
        for (int offset = 0; offset < 4096; offset += 8) {
            assertEquals(0, trampolinePage.get(ValueLayout.JAVA_LONG, offset), "trampoline page zeroed at +" + offset);
        }
    }

    @Test
    void withoutNxTheApsGetNoNxe() {
        pageTables(false);
        machine(0, 1);
        SimulatedAps.Ap ap = aps.add(1, 1);
        assertEquals(2, ApStartup.startAll(2, enabled(0, 1)));
        assertEquals(Efer.LME, ap.efer);
    }

    @Test
    void aDisabledCpuGetsNoIpiNoTableEntryAndStaysOffline() {
        pageTables(true);
        machine(0, 3, 1, 7);
        SimulatedAps.Ap skipped = aps.add(3, 7);
        aps.add(1, 3);
        aps.add(2, 1);
        SmpState.setStage(3, BootStage.LAPIC);
        captureTablesAtFirstSipi();

        assertEquals(3, ApStartup.startAll(4, enabled(0, 1, 2)));

        assertEquals(List.of("init 3", "init 1", "sipi 3 vector 8", "sipi 1 vector 8", WAKE), aps.icr);
        assertFalse(CpuMask.contains(CpuRecord.onlineMask(), 3));
        assertFalse(CpuMask.contains(CpuRecord.onlineMask(), 0), "startAll counts the boot CPU but does not mark it");
        assertEquals(BootStage.LAPIC, SmpState.stage(3), "a disabled CPU's stage is not touched");
        assertEquals(-1, skipped.foundCpu);
        // The APIC table ends after the highest enabled APIC ID, and lists no boot CPU.
        assertEquals(4, lastApicLimit);
        int[] expected = {0, 3, 0, 2};
        for (int id = 0; id < 4; id++) {
            assertEquals(expected[id], Memory.load32(lastApicTable + id * 4L), "apic id " + id);
        }
        assertEquals("", Console.hostOutput());
    }

    private long lastApicTable;
    private int lastApicLimit;

    @Test
    void theApicTableListsIndexPlusOneUpToTheHighestApicIdAndTheStackTableEveryCpu() {
        pageTables(true);
        machine(4, 0, 6, 2);
        SimulatedAps.Ap[] ap = {null, aps.add(1, 0), aps.add(2, 6), aps.add(3, 2)};
        captureTablesAtFirstSipi();

        assertEquals(4, ApStartup.startAll(4, enabled(0, 1, 2, 3)));

        assertEquals(7, lastApicLimit, "one past the highest APIC ID, 6");
        int[] expected = {2, 0, 4, 0, 0, 0, 3};
        for (int id = 0; id < 7; id++) {
            assertEquals(expected[id], Memory.load32(lastApicTable + id * 4L), "apic id " + id
                    + ": CPU index + 1, 0 for the boot CPU (apic 4) and for IDs no CPU has");
        }
        for (int cpu = 0; cpu < 4; cpu++) {
            assertEquals(CpuRecord.stackTop(cpu), Memory.load64(lastStackTable + cpu * 8L), "stack of cpu " + cpu);
        }
        assertEquals(1, ap[1].foundCpu);
        assertEquals(2, ap[2].foundCpu);
        assertEquals(3, ap[3].foundCpu);
        assertTrue(BootAllocator.next() >= lastStackTable + 4 * 8L, "the stack table lies inside its allocation");
    }

    @Test
    void maskBitsAtOrBeyondTheCpuCountAreNoCpus() {
        pageTables(true);
        machine(0, 1, 2);
        aps.add(1, 1);
        aps.add(2, 2);
        captureTablesAtFirstSipi();

        assertEquals(3, ApStartup.startAll(3, enabled(0, 1, 2, 3, 4)));

        assertEquals(List.of("init 1", "init 2", "sipi 1 vector 8", "sipi 2 vector 8", WAKE), aps.icr);
        assertEquals(3, lastApicLimit);
        assertEquals(0, Memory.load32(lastApicTable), "no CPU has APIC ID 0 but the boot CPU");
        assertFalse(CpuMask.contains(CpuRecord.onlineMask(), 3));
        assertTrue(BootAllocator.next() >= lastStackTable + 3 * 8L);
    }

    private long lastStackTable;

    private void captureTablesAtFirstSipi() {
        Msr.hostObserveWrites((msr, value) -> {
            if (msr == SimulatedAps.X2APIC_ICR && lastApicTable == 0 && (value.intValue() >>> 8 & 7) == 6) {
                long block = TrampolineParameters.ADDRESS;
                lastApicTable = Memory.load64(block + TrampolineParameters.APIC_TABLE);
                lastStackTable = Memory.load64(block + TrampolineParameters.STACK_TABLE);
                lastApicLimit = Memory.load32(block + TrampolineParameters.APIC_LIMIT);
            }
            aps.msrWritten(msr, value);
        });
    }

    @Test
    void anApThatIgnoredTheFirstSipiGetsASecondOneAndNoOtherApDoes() {
        pageTables(true);
        machine(0, 1, 2, 3);
        aps.add(1, 1);
        aps.add(2, 2).sipisToIgnore = 1;
        SimulatedAps.Ap stuck = aps.add(3, 3);
        stuck.trampolineStage = BootStage.REAL;
        stuck.ticksToLeave = 1_000_000;
        Delay.calibrated(FAST);

        assertEquals(3, ApStartup.startAll(4, enabled(0, 1, 2, 3)));

        assertEquals(List.of("init 1", "init 2", "init 3", "sipi 1 vector 8", "sipi 2 vector 8", "sipi 3 vector 8",
                "sipi 2 vector 8", "init 3", WAKE), aps.icr,
                "the second SIPI only to the AP that wrote no stage; the stuck one (in REAL) is parked with INIT");
        assertTrue(CpuMask.contains(CpuRecord.onlineMask(), 2));
    }

    @Test
    void anApThatNeverLeavesTheTrampolineIsReportedWithItsLastStageParkedAndLeftOffline() {
        pageTables(true);
        machine(0, 4, 5, 6);
        aps.add(1, 4);
        aps.add(2, 5).trampolineStage = BootStage.PROTECTED;
        aps.add(3, 6);
        SmpState.setStage(2, BootStage.READY); // garbage of an earlier life: startAll resets it to NONE first
        Delay.calibrated(FAST);

        assertEquals(3, ApStartup.startAll(4, enabled(0, 1, 2, 3)));

        assertEquals(List.of("init 4", "init 5", "init 6", "sipi 4 vector 8", "sipi 5 vector 8", "sipi 6 vector 8",
                "init 5", WAKE), aps.icr);
        assertFalse(CpuMask.contains(CpuRecord.onlineMask(), 2));
        assertTrue(CpuMask.contains(CpuRecord.onlineMask(), 1));
        assertTrue(CpuMask.contains(CpuRecord.onlineMask(), 3));
        assertEquals(BootStage.PROTECTED, SmpState.stage(2), "its last trampoline stage");
        assertEquals(1, Memory.load32(SmpState.record(2) + SmpState.TRAMPOLINE_TIMED_OUT));
        assertEquals(0, Memory.load32(SmpState.record(3) + SmpState.TRAMPOLINE_TIMED_OUT));
        assertEquals(1, ApStartup.timedOut() - timedOutBefore);
        assertEquals("smp: cpu 2 (apic 5) did not leave the trampoline; last stage protected: left offline\n",
                Console.hostOutput());
        assertTrue(aps.waitTicks > 0, "the boot CPU waited in HLT");
    }

    @Test
    void apsThatLeftButNeverGotReadyAreReportedAtStackOrTheirLastStage() {
        pageTables(true);
        machine(0, 1, 2, 3);
        aps.add(1, 1).kernelStage = BootStage.NONE;
        aps.add(2, 2).kernelStage = BootStage.PER_CPU;
        aps.add(3, 3);
        Delay.calibrated(FAST);

        assertEquals(2, ApStartup.startAll(4, enabled(0, 1, 2, 3)));

        assertEquals(List.of("init 1", "init 2", "init 3", "sipi 1 vector 8", "sipi 2 vector 8", "sipi 3 vector 8",
                "init 1", "init 2", WAKE), aps.icr);
        assertEquals("smp: cpu 1 (apic 1) did not reach ready; last stage stack: left offline\n"
                + "smp: cpu 2 (apic 2) did not reach ready; last stage per-cpu: left offline\n", Console.hostOutput());
        assertEquals(0, Memory.load32(SmpState.record(1) + SmpState.TRAMPOLINE_TIMED_OUT));
        assertEquals(2, ApStartup.timedOut() - timedOutBefore);
        assertFalse(CpuMask.contains(CpuRecord.onlineMask(), 1));
        assertFalse(CpuMask.contains(CpuRecord.onlineMask(), 2));
        assertTrue(CpuMask.contains(CpuRecord.onlineMask(), 3));
    }

    @Test
    void slowApsAreWaitedForInHaltWithThePeriodicWaitTickOnThenOff() {
        pageTables(true);
        machine(0, 1, 2);
        SimulatedAps.Ap slow = aps.add(1, 1);
        slow.ticksToLeave = 3;
        slow.ticksToReady = 2;
        SimulatedAps.Ap slower = aps.add(2, 2);
        slower.ticksToLeave = 5;
        Delay.calibrated(REAL); // 5 s for the trampoline: the ticks, not the clock, decide here

        assertEquals(3, ApStartup.startAll(3, enabled(0, 1, 2)));

        assertEquals(List.of("init 1", "init 2", "sipi 1 vector 8", "sipi 2 vector 8", WAKE), aps.icr,
                "an AP running the trampoline (stage byte REAL) gets no second SIPI");
        assertEquals(5, aps.waitTicks, "until the slower AP left; the slow one was ready by then");
        assertEquals(List.of("lvt " + Integer.toHexString(1 << 17 | Vectors.WAKE), "initial 100000",
                "lvt " + Integer.toHexString(Lapic.LVT_MASKED | Vectors.WAKE), "initial 0"), lapicTimer,
                "the periodic wait tick (default count without a calibration), then masked and stopped");
        assertEquals("", Console.hostOutput());
    }

    @Test
    void theBootCpuWaitsForReadyAfterEveryApLeft() {
        pageTables(true);
        machine(0, 1);
        SimulatedAps.Ap ap = aps.add(1, 1);
        ap.ticksToReady = 4;
        Delay.calibrated(REAL);

        assertEquals(2, ApStartup.startAll(2, enabled(0, 1)));
        assertEquals(4, aps.waitTicks);
        assertEquals(BootStage.READY, SmpState.stage(1));
    }

    @Test
    void apicIdsAboveTheStageSlotsShareTheLastByte() {
        pageTables(true);
        int high = TrampolineParameters.STAGE_SLOTS + 100;
        machine(0, high);
        SimulatedAps.Ap ap = aps.add(1, high);
        ap.ticksToLeave = 2;
        Delay.calibrated(REAL);

        assertEquals(2, ApStartup.startAll(2, enabled(0, 1)));
        assertEquals(List.of("init " + high, "sipi " + high + " vector 8", WAKE), aps.icr,
                "its REAL in the last slot means no second SIPI");
        assertEquals(2, aps.waitTicks);
        assertEquals(1, ap.foundCpu);
    }
}
