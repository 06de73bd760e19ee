package dev.jkvm.vmm.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The signal that kicks a vCPU thread out of KVM_RUN.
 *
 * <p>Why this shape: the JVM owns SIGSEGV/SIGBUS/SIGFPE/SIGILL/SIGQUIT/SIGUSR2 and the
 * shutdown signals, so a real-time signal nobody has claimed is used. vCPU threads keep it
 * <em>blocked</em> in user space and unblock it only inside KVM_RUN via KVM_SET_SIGNAL_MASK
 * (KVM API doc §4.22). A kick therefore either makes KVM_RUN return EINTR or, when the thread
 * is in Java code, stays pending until the next KVM_RUN returns EINTR at once; the pending
 * signal is then consumed with sigtimedwait, so it is never delivered in user space.
 *
 * <p>The disposition is SIG_IGN, not a handler: the kernel never discards a signal that is
 * blocked (or, inside KVM_RUN, in the saved mask), so the kick still lands, while a stray
 * delivery — e.g. during JVM thread teardown, which resets signal masks — does nothing. A Java
 * upcall as handler would run on a thread in the wrong state and abort the JVM.
 */
public final class KickSignal {
    private static KickSignal instance;

    private final int signal;
    private final MemorySegment onlyThisSignal;
    private final MemorySegment zeroTimeout;

    private KickSignal(int signal, Arena arena) {
        this.signal = signal;
        this.onlyThisSignal = Libc.sigset(arena, signal);
        this.zeroTimeout = arena.allocate(LibcAbi.TIMESPEC_SIZE, 8);
    }

    /** The process-wide kick signal, installed on first use. */
    public static synchronized KickSignal get() {
        if (instance == null) instance = install();
        return instance;
    }

    /** SIG_IGN from <signal.h>. */
    private static final long SIG_IGN = 1;

    private static KickSignal install() {
        Arena arena = Arena.global();
        MemorySegment old = arena.allocate(LibcAbi.SIGACTION_SIZE, 8);
        // glibc reserves the first real-time signals for itself; SIGRTMIN() is past them.
        for (int sig = Libc.sigrtmin() + 2; sig <= Libc.sigrtmax(); sig++) {
            Libc.sigaction(sig, MemorySegment.NULL, old);
            if (old.get(JAVA_LONG, LibcAbi.SIGACTION_HANDLER) != 0L) continue; // not SIG_DFL: someone uses it
            MemorySegment action = arena.allocate(LibcAbi.SIGACTION_SIZE, 8);
            action.set(JAVA_LONG, LibcAbi.SIGACTION_HANDLER, SIG_IGN);
            action.set(JAVA_INT, LibcAbi.SIGACTION_FLAGS, 0);
            Libc.sigaction(sig, action, MemorySegment.NULL);
            return new KickSignal(sig, arena);
        }
        throw new KvmException("sigaction", "real-time signals", "no free real-time signal to kick vCPU threads with");
    }

    public int number() { return signal; }

    /**
     * Blocks the signal on the calling (vCPU) thread and returns the kernel sigset to hand to
     * KVM_SET_SIGNAL_MASK: the thread's mask with the kick signal unblocked.
     */
    public long blockOnCurrentThread() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment old = arena.allocate(LibcAbi.SIGSET_T_SIZE, 8);
            Libc.pthreadSigmask(LibcAbi.SIG_BLOCK, onlyThisSignal, old);
            long kernelMask = old.get(JAVA_LONG, 0);
            return kernelMask & ~(1L << (signal - 1));
        }
    }

    /** Sends the signal to one thread of this process. */
    public void send(int tid, String object) {
        Libc.tgkill(Libc.getpid(), tid, signal, object);
    }

    /** Consumes a pending kick on the calling thread so the next KVM_RUN does not return at once. */
    public void drainPending() {
        while (Libc.sigtimedwaitNow(onlyThisSignal, zeroTimeout) > 0) {
            // drained one; real-time signals queue, so keep going until none is left
        }
    }
}
