package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.kernel.cpu.CpuRecord;
import dev.jkvm.klib.kernel.cpu.Features;
import dev.jkvm.klib.kernel.cpu.Gdt;
import dev.jkvm.klib.kernel.cpu.Idt;
import dev.jkvm.klib.kernel.cpu.PerCpuArea;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.mm.KernelLayout;
import dev.jkvm.klib.kernel.trap.Vectors;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.HostAddressSpace;
import dev.jkvm.klib.rt.HostArena;
import dev.jkvm.klib.rt.Memory;
import dev.jkvm.klib.rt.Msr;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The AP's side of bring-up (ApStartup.bringUp) on the host: the order of its steps as the stage
 * it has recorded when each one runs (the boot CPU reports an AP that never gets ready with that
 * stage), what it stores in its SmpState record, and its wait for the boot CPU's release, woken
 * from HLT with interrupts off again after every wake-up. It only ran in a booting guest before.
 */
class ApBringUpTest {
    private static final int CPU = 2;
    private static final int APIC_ID = 7;
    private static final long GDT = 0x51000;
    private static final long IDT = 0x52000;
    private static final long SYSCALL_ENTRY = 0x1234_5678L;
    private static final int IA32_APIC_BASE = 0x1B;
    private static final int IA32_LSTAR = 0xC0000082;
    private static final int X2APIC_ID = 0x802;

    private final List<String> events = new ArrayList<>();
    private final Map<Integer, Long> savedMsrs = new HashMap<>();
    private long savedCr0;
    private long savedCr4;
    private long area;
    private int hlts;
    private int releaseAfterHlts;

    @BeforeEach
    void setUp() {
        savedMsrs.putAll(Msr.hostMsrs());
        savedCr0 = Cpu.readCr0();
        savedCr4 = Cpu.readCr4();
        MemorySegment ram = HostArena.global().allocate(1 << 16, 4096).fill((byte) 0xA5);
        BootAllocator.init(ram.address(), ram.address() + ram.byteSize());
        Asm.hostDefine("kernel_memzero", args -> {
            HostAddressSpace.view(args[0], args[1], "kernel_memzero").fill((byte) 0);
            return 0;
        });
        MemorySegment layout = HostArena.global().allocate(KernelLayout.ENTRIES * 8L, 8).fill((byte) 0);
        layout.setAtIndex(ValueLayout.JAVA_LONG, KernelLayout.SYSCALL_ENTRY, SYSCALL_ENTRY);
        long layoutAddress = layout.address();
        Asm.hostDefine(KernelLayout.SYMBOL, args -> layoutAddress);
        // A per-CPU area whose magic and APIC ID are wrong: the check's result must land in the record.
        area = HostArena.global().allocate(PerCpuArea.RESERVED, PerCpuArea.ALIGNMENT).fill((byte) 0).address();
        CpuRecord.allocate(4);
        CpuRecord.set(CPU, APIC_ID, area, 0x7000_0000L);
        SmpState.allocate(4);
        Asm.hostDefine("kernel_lgdt", args -> event("lgdt " + Long.toHexString(args[0]) + " limit " + args[1]));
        Asm.hostDefine("kernel_ltr", args -> event("ltr " + Long.toHexString(args[0])));
        Asm.hostDefine("kernel_lidt", args -> event("lidt " + Long.toHexString(args[0]) + " limit " + args[1]));
        Asm.hostDefine(PerCpuArea.THIS_CPU, args -> area);
        Asm.hostDefine("kernel_wait_for_interrupt", args -> {
            hlts++;
            event("hlt, ready count " + SmpState.readyCount());
            Cpu.sti(); // the routine is STI; HLT: it returns with interrupts on
            if (hlts == releaseAfterHlts) {
                SmpState.release();
            }
            if (hlts > 100) {
                throw new IllegalStateException("still waiting after 100 wake-ups");
            }
            return 0;
        });
        Msr.hostObserveWrites((msr, value) -> {
            switch (msr) {
                case PerCpuArea.IA32_GS_BASE -> event("gs base " + Long.toHexString(value));
                case IA32_LSTAR -> event("lstar " + Long.toHexString(value));
                case IA32_APIC_BASE -> event("apic base");
                default -> {
                }
            }
        });
        Msr.hostMsrs().put(X2APIC_ID, (long) APIC_ID);
        Lapic.chooseMode(true, 0L);
        // CPUID: leaf 7 present, with SMEP and SMAP; the boot CPU shares only SMAP.
        Cpu.hostSetCpuid(0, 0, 7, 0, 0, 0);
        Cpu.hostSetCpuid(7, 0, 0, 1 << 7 | 1 << 20, 0, 0);
        ApStartup.shareTables(GDT, IDT, Features.SMAP);
        Cpu.cli();
    }

    @AfterEach
    void tearDown() {
        Msr.hostObserveWrites(null);
        Msr.hostMsrs().clear();
        Msr.hostMsrs().putAll(savedMsrs);
        Cpu.hostSetCpuid(0, 0, 0, 0, 0, 0);
        Cpu.hostSetCpuid(7, 0, 0, 0, 0, 0);
        Cpu.writeCr0(savedCr0);
        Cpu.writeCr4(savedCr4);
        Lapic.chooseMode(false, 0L);
        Cpu.cli();
    }

    private long event(String what) {
        events.add(what + " [stage " + SmpState.stage(CPU) + (Cpu.hostInterruptsEnabled() ? ", if on]" : "]"));
        return 0;
    }

    @Test
    void eachStepRunsAtItsStageAndTheRecordHoldsWhatTheApFound() {
        releaseAfterHlts = 2;

        ApStartup.bringUp(CPU);

        assertEquals(List.of(
                "gs base " + Long.toHexString(area) + " [stage 0]",
                "lgdt 51000 limit " + (Gdt.bytesFor(4) - 1) + " [stage " + BootStage.STACK + "]",
                "ltr " + Integer.toHexString(Gdt.tssSelector(CPU)) + " [stage " + BootStage.STACK + "]",
                "lidt 52000 limit " + (Idt.BYTES - 1) + " [stage " + BootStage.STACK + "]",
                "lstar 12345678 [stage " + BootStage.GDT_IDT + "]",
                "apic base [stage " + BootStage.PER_CPU + "]",
                "apic base [stage " + BootStage.PER_CPU + "]",
                "hlt, ready count 1 [stage " + BootStage.READY + "]",
                "hlt, ready count 1 [stage " + BootStage.READY + "]"), events,
                "the GDT for every CPU, this CPU's TSS; interrupts off at every HLT until the release");
        assertEquals(BootStage.IDLE, SmpState.stage(CPU));
        assertFalse(Cpu.hostInterruptsEnabled(), "returns with interrupts off");
        long record = SmpState.record(CPU);
        assertEquals(Features.SMEP | Features.SMAP, Memory.load32(record + SmpState.FEATURES));
        assertEquals(Features.SMAP, Memory.load32(record + SmpState.PROTECTIONS),
                "only what the boot CPU has too is switched on");
        assertEquals(2 | 4, Memory.load32(record + SmpState.PER_CPU_CHECK), "wrong magic and APIC ID in the area");
        assertEquals(Vectors.SPURIOUS | 1 << 8, (int) (long) Msr.hostMsrs().get(0x80F), "SVR: enabled, spurious vector");
        for (int other : new int[] {0, 1, 3}) {
            assertEquals(0, Memory.load32(SmpState.record(other) + SmpState.FEATURES), "cpu " + other);
        }
    }

    @Test
    void interruptsAreOffAtTheFirstHaltWhateverTheyWereAndTheFirstApIsNotHeld() {
        CpuRecord.set(1, APIC_ID, area, 0x7000_0000L);
        releaseAfterHlts = 1;
        Cpu.sti();
        ApStartup.bringUp(1);
        assertEquals(BootStage.IDLE, SmpState.stage(1), "only the test hook (test=hang) holds CPU 1");
        assertEquals(1, hlts);
        assertFalse(events.get(events.size() - 1).contains("if on"), events.toString());
    }

    @Test
    void aReleaseBeforeItIsReadyMeansNoWait() {
        SmpState.release();
        ApStartup.bringUp(CPU);
        assertEquals(BootStage.IDLE, SmpState.stage(CPU));
        assertEquals(0, hlts);
        assertEquals(1, SmpState.readyCount());
    }

    @Test
    void withoutARelease_ItKeepsWaiting() {
        assertThrows(IllegalStateException.class, () -> ApStartup.bringUp(CPU));
        assertEquals(BootStage.READY, SmpState.stage(CPU));
    }
}
