package dev.jkvm.vmm.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libc functions the VMM calls, as FFM downcalls that capture errno. Every wrapper that can
 * fail throws {@link KvmException} naming the call and the object it was made on, so callers never
 * inspect return codes.
 */
public final class Libc {
    private Libc() {}

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option SAVE_ERRNO = Linker.Option.captureCallState("errno");

    /** One errno capture buffer per thread: vCPU threads make millions of calls. */
    private static final ThreadLocal<MemorySegment> CAPTURE_BUFFER =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE));

    private static MethodHandle fn(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment symbol = LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, fd, options);
    }

    // open and ioctl are variadic (open(2) mode, ioctl(2) argp): the ABI needs to know where the
    // variadic part starts (AL holds the vector register count on x86-64).
    private static final MethodHandle OPEN = fn("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            SAVE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = fn("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), SAVE_ERRNO);
    private static final MethodHandle IOCTL_PTR = fn("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
            SAVE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle IOCTL_LONG = fn("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG),
            SAVE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MMAP = fn("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), SAVE_ERRNO);
    private static final MethodHandle MUNMAP = fn("munmap",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), SAVE_ERRNO);
    private static final MethodHandle GETPID = fn("getpid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETTID = fn("gettid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle TGKILL = fn("tgkill",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), SAVE_ERRNO);
    private static final MethodHandle SIGACTION = fn("sigaction",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), SAVE_ERRNO);
    private static final MethodHandle SIGEMPTYSET = fn("sigemptyset",
            FunctionDescriptor.of(JAVA_INT, ADDRESS), SAVE_ERRNO);
    private static final MethodHandle SIGADDSET = fn("sigaddset",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), SAVE_ERRNO);
    private static final MethodHandle PTHREAD_SIGMASK = fn("pthread_sigmask",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SIGTIMEDWAIT = fn("sigtimedwait",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), SAVE_ERRNO);
    private static final MethodHandle SIGRTMIN = fn("__libc_current_sigrtmin", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle SIGRTMAX = fn("__libc_current_sigrtmax", FunctionDescriptor.of(JAVA_INT));

    private static int errno(MemorySegment capture) {
        return (int) ERRNO.get(capture, 0L);
    }

    private static RuntimeException unexpected(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    /** open(2); returns the fd. */
    public static int open(String path, int flags, String object) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = CAPTURE_BUFFER.get();
            int fd = (int) OPEN.invokeExact(capture, arena.allocateFrom(path), flags, 0);
            if (fd < 0) throw new KvmException("open", object, errno(capture));
            return fd;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void close(int fd, String object) {
        try {
            MemorySegment capture = CAPTURE_BUFFER.get();
            int r = (int) CLOSE.invokeExact(capture, fd);
            if (r < 0) throw new KvmException("close", object, errno(capture));
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** ioctl(2) with a pointer argument; returns the (non-negative) result. */
    public static int ioctl(int fd, long request, MemorySegment arg, String name, String object) {
        try {
            MemorySegment capture = CAPTURE_BUFFER.get();
            int r = (int) IOCTL_PTR.invokeExact(capture, fd, request, arg);
            if (r < 0) throw new KvmException(name, object, errno(capture));
            return r;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** ioctl(2) with an integer argument; returns the (non-negative) result. */
    public static int ioctl(int fd, long request, long arg, String name, String object) {
        try {
            MemorySegment capture = CAPTURE_BUFFER.get();
            int r = (int) IOCTL_LONG.invokeExact(capture, fd, request, arg);
            if (r < 0) throw new KvmException(name, object, errno(capture));
            return r;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * ioctl(2) that reports failure as a negative errno instead of throwing, for calls whose
     * failure is an expected outcome (KVM_RUN returning EINTR after a kick).
     */
    public static int ioctlOrErrno(int fd, long request, long arg) {
        try {
            MemorySegment capture = CAPTURE_BUFFER.get();
            int r = (int) IOCTL_LONG.invokeExact(capture, fd, request, arg);
            return r < 0 ? -errno(capture) : r;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** mmap(2); returns a segment of {@code length} bytes at the mapping. */
    public static MemorySegment mmap(long length, int prot, int flags, int fd, long offset, String object) {
        try {
            MemorySegment capture = CAPTURE_BUFFER.get();
            MemorySegment p = (MemorySegment) MMAP.invokeExact(capture, MemorySegment.NULL, length, prot, flags, fd, offset);
            if (p.address() == -1L) throw new KvmException("mmap", object, errno(capture));
            return p.reinterpret(length);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void munmap(MemorySegment mapping, String object) {
        try {
            MemorySegment capture = CAPTURE_BUFFER.get();
            int r = (int) MUNMAP.invokeExact(capture, mapping, mapping.byteSize());
            if (r < 0) throw new KvmException("munmap", object, errno(capture));
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int getpid() {
        try {
            return (int) GETPID.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** The kernel thread id of the calling thread. */
    public static int gettid() {
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** tgkill(2): a signal to one thread of this process. */
    public static void tgkill(int tgid, int tid, int signal, String object) {
        try {
            MemorySegment capture = CAPTURE_BUFFER.get();
            int r = (int) TGKILL.invokeExact(capture, tgid, tid, signal);
            if (r < 0) throw new KvmException("tgkill", object, errno(capture));
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void sigaction(int signal, MemorySegment action, MemorySegment oldAction) {
        try {
            MemorySegment capture = CAPTURE_BUFFER.get();
            int r = (int) SIGACTION.invokeExact(capture, signal, action, oldAction);
            if (r < 0) throw new KvmException("sigaction", "signal " + signal, errno(capture));
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** A glibc sigset_t allocated in {@code arena} holding exactly {@code signals}. */
    public static MemorySegment sigset(Arena arena, int... signals) {
        try {
            MemorySegment set = arena.allocate(LibcAbi.SIGSET_T_SIZE, 8);
            MemorySegment capture = CAPTURE_BUFFER.get();
            if ((int) SIGEMPTYSET.invokeExact(capture, set) < 0) throw new KvmException("sigemptyset", "sigset", errno(capture));
            for (int s : signals) {
                if ((int) SIGADDSET.invokeExact(capture, set, s) < 0) throw new KvmException("sigaddset", "signal " + s, errno(capture));
            }
            return set;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** pthread_sigmask(3) for the calling thread; {@code old} may be NULL. */
    public static void pthreadSigmask(int how, MemorySegment set, MemorySegment old) {
        try {
            int r = (int) PTHREAD_SIGMASK.invokeExact(how, set, old);
            if (r != 0) throw new KvmException("pthread_sigmask", "thread " + Thread.currentThread().getName(), r);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** sigtimedwait(2) with a zero timeout: the signal number taken, or -1 when none was pending. */
    public static int sigtimedwaitNow(MemorySegment set, MemorySegment zeroTimespec) {
        try {
            MemorySegment capture = CAPTURE_BUFFER.get();
            int r = (int) SIGTIMEDWAIT.invokeExact(capture, set, MemorySegment.NULL, zeroTimespec);
            if (r < 0) {
                int e = errno(capture);
                if (e == LibcAbi.EAGAIN || e == LibcAbi.EINTR) return -1;
                throw new KvmException("sigtimedwait", "thread " + Thread.currentThread().getName(), e);
            }
            return r;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int sigrtmin() {
        try {
            return (int) SIGRTMIN.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int sigrtmax() {
        try {
            return (int) SIGRTMAX.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }
}
