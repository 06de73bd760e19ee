package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.kernel.cpu.CpuRecord;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.sync.InterruptFlag;
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
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel's IPI sender bindings against a local APIC register page in memory (xAPIC) and
 * the simulated MSRs (x2APIC): the CPU index becomes that CPU's APIC ID in the destination
 * field, the vector is the low byte of the ICR with fixed delivery and level assert (Intel SDM
 * Vol. 3A 11.6.1), and the broadcast uses the all-excluding-self shorthand. The error path
 * needs an APIC that reports errors in ESR, which neither host stand-in does.
 */
class LapicIpiSenderTest {
    private static final int X2APIC_ICR = 0x830;

    private MemorySegment apicPage;

    @BeforeEach
    void setUp() {
        MemorySegment ram = HostArena.global().allocate(1 << 16, 4096).fill((byte) 0xA5);
        BootAllocator.init(ram.address(), ram.address() + ram.byteSize());
        Asm.hostDefine("kernel_memzero", args -> {
            HostAddressSpace.view(args[0], args[1], "kernel_memzero").fill((byte) 0);
            return 0;
        });
        Asm.hostDefine(InterruptFlag.READ_RFLAGS_SYMBOL, args -> Cpu.hostInterruptsEnabled() ? InterruptFlag.RFLAGS_IF : 0);
        CpuRecord.allocate(4);
        CpuRecord.set(0, 0, 0L, 0L);
        CpuRecord.set(1, 6, 0L, 0L);
        CpuRecord.set(2, 0x45, 0L, 0L);
        apicPage = HostArena.global().allocate(4096, 4096);
    }

    @AfterEach
    void tearDown() {
        Lapic.chooseMode(false, 0L);
        Msr.hostObserveWrites(null);
        Cpu.cli();
    }

    @Test
    void anXapicIpiNamesTheTargetsApicIdAndTheVectorsLowByte() {
        Lapic.chooseMode(false, apicPage.address());
        int failures = LapicIpiSender.failures();
        LapicIpiSender.send(1, 0xF3);
        assertEquals(6 << 24, Memory.load32(apicPage.address() + Lapic.ICR_HIGH));
        assertEquals(Lapic.FIXED | Lapic.ASSERT | 0xF3, Memory.load32(apicPage.address() + Lapic.ICR_LOW));
        LapicIpiSender.send(2, 0x1F4);
        assertEquals(0x45 << 24, Memory.load32(apicPage.address() + Lapic.ICR_HIGH));
        assertEquals(Lapic.FIXED | Lapic.ASSERT | 0xF4, Memory.load32(apicPage.address() + Lapic.ICR_LOW),
                "only the vector's low byte");
        LapicIpiSender.sendToAllOthers(0x3F5);
        assertEquals(Lapic.FIXED | Lapic.ASSERT | Lapic.ALL_EXCLUDING_SELF | 0xF5,
                Memory.load32(apicPage.address() + Lapic.ICR_LOW));
        assertEquals(failures, LapicIpiSender.failures(), "ESR stayed clear");
    }

    @Test
    void anX2apicIpiIsOneIcrWriteWithTheApicIdInTheHighHalf() {
        Lapic.chooseMode(true, 0L);
        LapicIpiSender.send(2, 0xF3);
        assertEquals(0x45L << 32 | Lapic.FIXED | Lapic.ASSERT | 0xF3, Msr.read(X2APIC_ICR));
        LapicIpiSender.send(1, 0x2F1);
        assertEquals(6L << 32 | Lapic.FIXED | Lapic.ASSERT | 0xF1, Msr.read(X2APIC_ICR));
        LapicIpiSender.sendToAllOthers(0x1F2);
        assertEquals(Lapic.FIXED | Lapic.ASSERT | Lapic.ALL_EXCLUDING_SELF | 0xF2, Msr.read(X2APIC_ICR));
    }

    /**
     * An IPI is sent with interrupts off and the caller's interrupt flag comes back: in xAPIC mode
     * an interrupt handler sending between the ICR high and low writes would redirect the
     * interrupted IPI (Lapic.sendIpi). Observed through the x2APIC ICR write, the one step the
     * host stand-ins can watch.
     */
    @Test
    void anIpiIsSentWithInterruptsOffAndTheFlagRestored() {
        Lapic.chooseMode(true, 0L);
        List<Boolean> interruptsAtIcrWrite = new ArrayList<>();
        Msr.hostObserveWrites((msr, value) -> {
            if (msr == X2APIC_ICR) {
                interruptsAtIcrWrite.add(Cpu.hostInterruptsEnabled());
            }
        });
        Cpu.sti();
        LapicIpiSender.send(1, 0xF3);
        assertTrue(Cpu.hostInterruptsEnabled(), "interrupts enabled again after the send");
        Cpu.cli();
        LapicIpiSender.send(2, 0xF3);
        assertFalse(Cpu.hostInterruptsEnabled(), "interrupts still off after a send with them off");
        assertEquals(List.of(false, false), interruptsAtIcrWrite);
    }
}
