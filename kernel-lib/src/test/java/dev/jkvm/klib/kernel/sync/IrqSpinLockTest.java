package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Interrupt-flag save and restore against the host's simulated RFLAGS.IF, and the lock's statistics. */
class IrqSpinLockTest {
    private Arena arena;
    private long outer;
    private long inner;

    @BeforeEach
    void allocate() {
        arena = HostCpus.sharedMemory();
        outer = arena.allocate(IrqSpinLock.SIZE, 64).address();
        inner = arena.allocate(IrqSpinLock.SIZE, 64).address();
        IrqSpinLock.init(outer);
        IrqSpinLock.init(inner);
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

    @Test
    void aWaiterIsCountedAsContendedWithItsSpins() throws Exception {
        boolean flags = IrqSpinLock.lockIrqSave(outer);
        Thread waiter = new Thread(() -> {
            boolean f = IrqSpinLock.lockIrqSave(outer);
            IrqSpinLock.unlockIrqRestore(outer, f);
        });
        waiter.setDaemon(true);
        waiter.start();
        // Queued once it drew the next ticket; it spins from then on.
        while (TicketSpinLock.queueLength(outer) != 2) {
            Thread.onSpinWait();
        }
        Thread.sleep(5);
        IrqSpinLock.unlockIrqRestore(outer, flags);
        waiter.join();
        long stats = IrqSpinLock.stats(outer);
        assertEquals(2, LockStats.acquisitions(stats));
        assertEquals(1, LockStats.contended(stats));
        assertTrue(LockStats.spins(stats) >= 1, "spins " + LockStats.spins(stats));
        assertFalse(TicketSpinLock.isLocked(outer));
    }

    @Test
    void everyAcquisitionUnderContentionIsCounted() throws Exception {
        long counter = HostCpus.sharedMemory().allocate(8, 8).address();
        Memory.store64(counter, 0);
        int perCpu = 10_000;
        HostCpus.run(HostCpus.CORES, cpu -> {
            for (int i = 0; i < perCpu; i++) {
                boolean f = IrqSpinLock.lockIrqSave(outer);
                Memory.store64(counter, Memory.load64(counter) + 1);
                IrqSpinLock.unlockIrqRestore(outer, f);
            }
        });
        long total = (long) perCpu * HostCpus.CORES;
        long stats = IrqSpinLock.stats(outer);
        assertEquals(total, Memory.load64(counter));
        assertEquals(total, LockStats.acquisitions(stats));
        assertTrue(LockStats.contended(stats) <= total);
        assertTrue(LockStats.spins(stats) >= LockStats.contended(stats));
    }
}
