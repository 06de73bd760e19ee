package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Cpu;

/**
 * A TicketSpinLock taken with maskable interrupts disabled, for data an interrupt handler on the
 * same CPU also locks: were an interrupt to arrive while the lock is held and its handler to
 * spin on the same lock, the CPU would deadlock. Interrupts are disabled before the ticket is
 * drawn, and the previous state is handed back so that nested sections restore exactly what they
 * found instead of enabling interrupts early.
 */
public final class IrqSpinLock {
    private IrqSpinLock() {
    }

    /** Disables interrupts, takes the lock and returns whether interrupts were enabled before. */
    public static boolean lockIrqSave(long lock) {
        boolean wasEnabled = InterruptFlag.enabled();
        Cpu.cli();
        TicketSpinLock.lock(lock);
        return wasEnabled;
    }

    /** Releases the lock, then enables interrupts if lockIrqSave found them enabled. */
    public static void unlockIrqRestore(long lock, boolean wasEnabled) {
        TicketSpinLock.unlock(lock);
        if (wasEnabled) {
            Cpu.sti();
        }
    }
}
