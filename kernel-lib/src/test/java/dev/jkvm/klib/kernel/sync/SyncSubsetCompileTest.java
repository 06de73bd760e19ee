package dev.jkvm.klib.kernel.sync;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every sync class is kernel code: the subset compiler must accept all of it, and objdump must
 * find the instructions the classes' ordering arguments rely on.
 */
class SyncSubsetCompileTest {
    private static KernelCodeDisassembly code;

    @BeforeAll
    static void compile() throws Exception {
        code = KernelCodeDisassembly.compile(TicketSpinLock.class, CheckedSpinLock.class, IrqSpinLock.class,
                InterruptFlag.class, SyncPanic.class, SenseBarrier.class, SpinSemaphore.class, SeqLock.class,
                LockStats.class, CountedTicketLock.class, McsLock.class, CheckedMcsLock.class, RwLock.class,
                CheckedRwLock.class, CountedSpinSemaphore.class);
    }

    @Test
    void needsOnlyPanicFlagsAndConsoleRoutinesFromTheKernel() {
        assertEquals(Set.of(SyncPanic.SYMBOL, InterruptFlag.READ_RFLAGS_SYMBOL,
                "klib_console_print", "klib_console_print_hex"), code.externals());
    }

    @Test
    void ticketLockDrawsWithLockedXaddAndSpinsWithPause() {
        assertTrue(code.contains("TicketSpinLock.lock", "lock xadd"), () -> String.join("\n", code.method("TicketSpinLock.lock")));
        assertTrue(code.contains("TicketSpinLock.lock", "pause"));
        assertTrue(code.contains("TicketSpinLock.tryLock", "lock cmpxchg"));
    }

    @Test
    void unlockIsAPlainStoreUnderTso() {
        assertTrue(code.method("TicketSpinLock.unlock").stream().anyMatch(t -> t.matches("mov %e\\w+,(0x4)?\\(%r\\w+\\)")),
                () -> String.join("\n", code.method("TicketSpinLock.unlock")));
        assertFalse(code.method("TicketSpinLock.unlock").stream()
                // "xchg %ax,%ax" is objdump's name for the 2-byte NOP (66 90) that pads the method to 16 bytes.
                .anyMatch(t -> t.startsWith("lock") || (t.startsWith("xchg") && !t.equals("xchg %ax,%ax"))
                        || t.startsWith("mfence")),
                () -> String.join("\n", code.method("TicketSpinLock.unlock")));
    }

    @Test
    void irqSaveDisablesAndRestoreEnablesInterrupts() {
        assertTrue(code.contains("IrqSpinLock.lockIrqSave", "cli"));
        assertTrue(code.contains("IrqSpinLock.unlockIrqRestore", "sti"));
    }

    @Test
    void mcsLockQueuesWithXchgAndLeavesWithCmpxchg() {
        assertTrue(code.contains("McsLock.lock", "xchg"), () -> String.join("\n", code.method("McsLock.lock")));
        assertTrue(code.contains("McsLock.lock", "pause"));
        assertTrue(code.contains("McsLock.unlock", "lock cmpxchg"), () -> String.join("\n", code.method("McsLock.unlock")));
    }

    @Test
    void rwLockAcquiresWithCmpxchgAndReadersLeaveWithLockedAdd() {
        assertTrue(code.contains("RwLock.readLock", "lock cmpxchg"));
        assertTrue(code.contains("RwLock.writeLock", "lock cmpxchg"));
        assertTrue(code.contains("RwLock.readUnlock", "lock xadd"), () -> String.join("\n", code.method("RwLock.readUnlock")));
        assertTrue(code.contains("LockStats.recordShared", "lock xadd"));
        assertFalse(code.method("LockStats.recordExclusive").stream().anyMatch(t -> t.startsWith("lock")));
    }

    @Test
    void spinningWaitsUsePause() {
        assertTrue(code.contains("SenseBarrier.await", "pause"));
        assertTrue(code.contains("SpinSemaphore.awaitPost", "pause"));
        assertTrue(code.contains("SeqLock.readBegin", "pause"));
    }
}
