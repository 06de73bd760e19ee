package dev.jkvm.klib.kernel.selftest;

import dev.jkvm.klib.kernel.apic.Lapic;
import dev.jkvm.klib.kernel.cpu.CpuMask;
import dev.jkvm.klib.kernel.cpu.CpuRecord;
import dev.jkvm.klib.kernel.mm.BootAllocator;
import dev.jkvm.klib.kernel.smp.IpiHandlers;
import dev.jkvm.klib.kernel.smp.SmpState;
import dev.jkvm.klib.kernel.sync.InterruptFlag;
import dev.jkvm.klib.kernel.time.Delay;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.HostAddressSpace;
import dev.jkvm.klib.rt.HostArena;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The boot-time timer check's wait for its one-shot tick: every look at the tick count happens
 * with interrupts off, up to the STI;HLT that waits (kernel_wait_for_interrupt), and the caller's
 * interrupt flag comes back afterwards. With interrupts on at a look, the one tick could arrive
 * between the look and the HLT, be handled, and then be slept through: under QEMU TCG at 181 CPUs
 * every CPU ended halted there for good (issue 14). The stand-in for the wait records the flag at
 * each entry and delivers the tick at the second wait, so a look after a wake-up is checked too.
 */
class IpiChecksTimerTest {
    private final List<Boolean> interruptsAtWait = new ArrayList<>();

    @BeforeEach
    void boot() throws Exception {
        MemorySegment ram = HostArena.global().allocate(1 << 20, 4096).fill((byte) 0xA5);
        BootAllocator.init(ram.address(), ram.address() + ram.byteSize());
        Asm.hostDefine("kernel_memzero", args -> {
            HostAddressSpace.view(args[0], args[1], "kernel_memzero").fill((byte) 0);
            return 0;
        });
        Asm.hostDefine(InterruptFlag.READ_RFLAGS_SYMBOL, args -> Cpu.hostInterruptsEnabled() ? InterruptFlag.RFLAGS_IF : 0);
        Asm.hostDefine("kernel_putc", args -> {
            Console.print(String.valueOf((char) args[0]));
            return 0;
        });
        Asm.hostDefine("kernel_wait_for_interrupt", args -> {
            interruptsAtWait.add(Cpu.hostInterruptsEnabled());
            Cpu.sti();
            if (interruptsAtWait.size() == 2) {
                setBspTicks(1);
            }
            return 0;
        });
        SmpState.allocate(1);
        CpuRecord.allocate(1);
        CpuMask.set(CpuRecord.onlineMask(), 0);
        Lapic.chooseMode(false, HostArena.global().allocate(4096, 4096).address());
        Delay.calibrated(1_000_000);
        setBspTicks(0);
        Console.hostClear();
    }

    @AfterEach
    void tearDown() throws Exception {
        Lapic.chooseMode(false, 0L);
        Cpu.cli();
        setBspTicks(0);
    }

    private static void setBspTicks(int ticks) {
        try {
            Field count = IpiHandlers.class.getDeclaredField("bspTickCount");
            count.setAccessible(true);
            count.setInt(null, ticks);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theTickCountIsOnlyLookedAtWithInterruptsOffAndTheFlagComesBack() {
        Cpu.sti();
        assertTrue(IpiChecks.timer(62_500));
        assertEquals(List.of(false, false), interruptsAtWait, "interrupts at each wait for the tick");
        assertTrue(Cpu.hostInterruptsEnabled(), "interrupts on again, as the caller had them");
        assertTrue(Console.hostOutput().contains("timer: boot cpu ticks 1, forwarded to 0/0"), Console.hostOutput());
    }
}
