package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.rt.Cpu;

/**
 * A ticket spinlock taken with maskable interrupts disabled, for data an interrupt handler on the
 * same CPU also locks: were an interrupt to arrive while the lock is held and its handler to
 * spin on the same lock, the CPU would deadlock. Interrupts are disabled before the ticket is
 * drawn, and the previous state is handed back so that nested sections restore exactly what they
 * found instead of enabling interrupts early.
 *
 * The lock is a CountedTicketLock (SIZE bytes): its LockStats show how often the lock was
 * taken, how often it had to wait and how long, and that wait is time spent with interrupts off,
 * which is what makes a hot interrupt-saving lock worth finding.
 */
public final class IrqSpinLock {
    private IrqSpinLock() {
    }

    public static final int SIZE = CountedTicketLock.SIZE;

    public static void init(long lock) {
        CountedTicketLock.init(lock);
    }

    /** Disables interrupts, takes the lock and returns whether interrupts were enabled before. */
    public static boolean lockIrqSave(long lock) {
        boolean wasEnabled = InterruptFlag.enabled();
        Cpu.cli();
        CountedTicketLock.lock(lock);
        return wasEnabled;
    }

    /** Releases the lock, then enables interrupts if lockIrqSave found them enabled. */
    public static void unlockIrqRestore(long lock, boolean wasEnabled) {
        TicketSpinLock.unlock(lock);
        if (wasEnabled) {
            Cpu.sti();
        }
    }

    public static long stats(long lock) {
        return lock + CountedTicketLock.STATS;
    }
}
