package dev.jkvm.klib.kernel.cpu;

import dev.jkvm.klib.arch.Efer;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.HostAddressSpace;
import dev.jkvm.klib.rt.HostArena;
import dev.jkvm.klib.rt.Memory;
import dev.jkvm.klib.rt.Msr;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A CPU's own state on the host: its per-CPU area's reserved line and the check an AP runs on it,
 * its CpuRecord (records and globals from garbage-filled boot memory), and the SYSCALL MSRs
 * (Intel SDM Vol. 2B SYSCALL/SYSRET: STAR[47:32] kernel CS, STAR[63:48] SYSRET base, LSTAR the
 * entry, FMASK the RFLAGS bits cleared, EFER.SCE).
 */
class PerCpuAreaTest {
    private final Map<Integer, Long> savedMsrs = new HashMap<>();
    private long area;

    @BeforeEach
    void setUp() {
        savedMsrs.putAll(Msr.hostMsrs());
        MemorySegment ram = HostArena.global().allocate(1 << 16, 4096).fill((byte) 0xA5);
        BootAllocator.init(ram.address(), ram.address() + ram.byteSize());
        Asm.hostDefine("kernel_memzero", args -> {
            HostAddressSpace.view(args[0], args[1], "kernel_memzero").fill((byte) 0);
            return 0;
        });
        area = HostArena.global().allocate(PerCpuArea.RESERVED + 64, PerCpuArea.ALIGNMENT).fill((byte) 0xA5).address();
        long theArea = area;
        Asm.hostDefine(PerCpuArea.THIS_CPU, args -> theArea);
    }

    @AfterEach
    void tearDown() {
        Msr.hostMsrs().clear();
        Msr.hostMsrs().putAll(savedMsrs);
    }

    @Test
    void initializeFillsTheReservedLineAndTheCheckFindsEachDisagreement() {
        PerCpuArea.initialize(area, 3, 17, 0x7000, 0x8000);
        assertEquals(area, Memory.load64(area + PerCpuArea.SELF));
        assertEquals(3, Memory.load32(area + PerCpuArea.CPU_INDEX));
        assertEquals(17, PerCpuArea.apicId(area));
        assertEquals(PerCpuArea.MAGIC_VALUE, Memory.load64(area + PerCpuArea.MAGIC));
        assertEquals(0x7000, Memory.load64(area + PerCpuArea.STACK_TOP));
        assertEquals(0x8000, Memory.load64(area + PerCpuArea.TSS));

        PerCpuArea.install(area);
        assertEquals(area, Msr.read(PerCpuArea.IA32_GS_BASE));
        assertEquals(area, PerCpuArea.thisCpu());
        assertEquals(0, PerCpuArea.check(17));
        assertEquals(4, PerCpuArea.check(16), "another APIC ID");
        PerCpuArea.install(area + 64);
        assertEquals(1, PerCpuArea.check(17), "GS base elsewhere");
        PerCpuArea.install(area);
        Memory.store64(area + PerCpuArea.MAGIC, PerCpuArea.MAGIC_VALUE + 1);
        assertEquals(2, PerCpuArea.check(17), "magic overwritten");
        assertEquals(6, PerCpuArea.check(18));
    }

    @Test
    void cpuRecordsAreSeparateAndCountHaltedCpus() {
        CpuRecord.allocate(3);
        assertEquals(3, CpuRecord.count());
        CpuRecord.set(1, 9, 0x1000, 0x2000);
        CpuRecord.set(2, 4, 0x3000, 0x4000);
        assertEquals(0, CpuRecord.apicId(0), "zeroed");
        assertEquals(0, CpuRecord.area(0));
        assertEquals(9, CpuRecord.apicId(1));
        assertEquals(0x1000, CpuRecord.area(1));
        assertEquals(0x2000, CpuRecord.stackTop(1));
        assertEquals(4, CpuRecord.apicId(2));
        assertEquals(0x4000, CpuRecord.stackTop(2));
        assertEquals(CpuRecord.SIZE, CpuRecord.of(2) - CpuRecord.of(1));
        assertFalse(CpuRecord.isOnline(1), "the online mask starts empty");
        CpuMask.set(CpuRecord.onlineMask(), 1);
        assertTrue(CpuRecord.isOnline(1));
        assertEquals(0, CpuRecord.haltedCount());
        CpuRecord.noteHalted();
        CpuRecord.noteHalted();
        assertEquals(2, CpuRecord.haltedCount());
    }

    @Test
    void syscallMsrs() {
        Msr.write(Efer.MSR, Efer.LME);
        SystemCallMsrs.enable(0xFFFF_8000_1234_5678L);
        assertEquals((long) Gdt.DATA_SELECTOR << 48 | (long) Gdt.CODE64_SELECTOR << 32, Msr.read(SystemCallMsrs.IA32_STAR));
        assertEquals(0xFFFF_8000_1234_5678L, Msr.read(SystemCallMsrs.IA32_LSTAR));
        assertEquals(Rflags.TF | Rflags.IF | Rflags.DF | Rflags.AC, Msr.read(SystemCallMsrs.IA32_FMASK));
        assertEquals(Efer.LME | Efer.SCE, Msr.read(Efer.MSR));
    }
}
