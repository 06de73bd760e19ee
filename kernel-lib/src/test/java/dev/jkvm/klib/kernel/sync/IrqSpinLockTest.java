package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Cpu;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Interrupt-flag save and restore against the host's simulated RFLAGS.IF. */
class IrqSpinLockTest {
    private Arena arena;
    private long outer;
    private long inner;

    @BeforeEach
    void allocate() {
        arena = HostCpus.sharedMemory();
        outer = arena.allocate(64, 64).address();
        inner = arena.allocate(64, 64).address();
        TicketSpinLock.init(outer);
        TicketSpinLock.init(inner);
        // PUSHFQ of the simulated CPU: bit 1 is always set (Intel SDM Vol. 1 3.4.3), IF is bit 9.
        Asm.hostDefine(InterruptFlag.READ_RFLAGS_SYMBOL, args -> Cpu.hostInterruptsEnabled() ? 0x202 : 0x2);
    }

    @AfterEach
    void restore() {
        Cpu.cli();
    }

    @Test
    void nestedSectionsRestoreWhatTheyFound() {
        Cpu.sti();
        boolean outerFlags = IrqSpinLock.lockIrqSave(outer);
        assertTrue(outerFlags);
        assertFalse(Cpu.hostInterruptsEnabled());
        assertTrue(TicketSpinLock.isLocked(outer));
        boolean innerFlags = IrqSpinLock.lockIrqSave(inner);
        assertFalse(innerFlags);
        IrqSpinLock.unlockIrqRestore(inner, innerFlags);
        assertFalse(Cpu.hostInterruptsEnabled(), "the inner section enabled interrupts inside the outer one");
        assertFalse(TicketSpinLock.isLocked(inner));
        IrqSpinLock.unlockIrqRestore(outer, outerFlags);
        assertTrue(Cpu.hostInterruptsEnabled());
        assertFalse(TicketSpinLock.isLocked(outer));
    }

    @Test
    void staysDisabledWhenEnteredDisabled() {
        Cpu.cli();
        boolean flags = IrqSpinLock.lockIrqSave(outer);
        assertFalse(flags);
        IrqSpinLock.unlockIrqRestore(outer, flags);
        assertFalse(Cpu.hostInterruptsEnabled());
    }
}
