package dev.jkvm.testsupport;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.util.Map;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Whether this host's /dev/kvm is usable: it opens the device and asks KVM for its API version and
 * for a VM, as the VMM does first (a node that exists and is read-write is not enough: on a host
 * whose KVM module did not bind, or in a container, open or KVM_CREATE_VM fails).
 */
public final class KvmProbe {
    /** The stable KVM API version (Documentation/virt/kvm/api.rst, KVM_GET_API_VERSION). */
    static final int KVM_API_VERSION = 12;
    /** _IO(KVMIO = 0xAE, 0x00) and _IO(KVMIO, 0x01) from linux/kvm.h. */
    static final long KVM_GET_API_VERSION = 0xAE00;
    static final long KVM_CREATE_VM = 0xAE01;
    static final int O_RDWR = 2;
    static final int O_CLOEXEC = 0x80000;

    private static final Map<Integer, String> ERRNO_NAMES = Map.of(1, "EPERM", 2, "ENOENT", 6, "ENXIO", 12, "ENOMEM",
            13, "EACCES", 16, "EBUSY", 19, "ENODEV", 22, "EINVAL", 25, "ENOTTY");

    private static final Optional<String> PROBLEM_OF_DEV_KVM = problem("/dev/kvm");

    private KvmProbe() {}

    /** Why /dev/kvm cannot be used on this host, or empty when it can (probed once per JVM). */
    public static Optional<String> problemOfDevKvm() {
        return PROBLEM_OF_DEV_KVM;
    }

    /** Why the KVM device at path cannot be used, or empty when it can. */
    public static Optional<String> problem(String path) {
        Linker linker = Linker.nativeLinker();
        StructLayout capture = Linker.Option.captureStateLayout();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        // open(2) and ioctl(2) are variadic: the x86-64 ABI needs to know where the variadic part starts.
        MethodHandle open = linker.downcallHandle(linker.defaultLookup().findOrThrow("open"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), errno, Linker.Option.firstVariadicArg(2));
        MethodHandle ioctl = linker.downcallHandle(linker.defaultLookup().findOrThrow("ioctl"),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), errno, Linker.Option.firstVariadicArg(2));
        MethodHandle close = linker.downcallHandle(linker.defaultLookup().findOrThrow("close"),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(capture);
            int kvm = (int) open.invokeExact(state, arena.allocateFrom(path), O_RDWR | O_CLOEXEC, 0);
            if (kvm < 0) {
                int e = errno(capture, state);
                return Optional.of(path + (e == 2 ? " absent on this host" : " cannot be opened read-write (" + name(e) + ")"));
            }
            try {
                int version = (int) ioctl.invokeExact(state, kvm, KVM_GET_API_VERSION, 0L);
                if (version != KVM_API_VERSION) {
                    return Optional.of(path + " answers KVM_GET_API_VERSION with " + version + " ("
                            + (version < 0 ? name(errno(capture, state)) : "not " + KVM_API_VERSION) + ")");
                }
                int vm = (int) ioctl.invokeExact(state, kvm, KVM_CREATE_VM, 0L);
                if (vm < 0) {
                    return Optional.of(path + " refuses KVM_CREATE_VM (" + name(errno(capture, state)) + ")");
                }
                int ignored = (int) close.invokeExact(vm);
                return Optional.empty();
            } finally {
                int ignored = (int) close.invokeExact(kvm);
            }
        } catch (Throwable t) {
            return Optional.of(path + " could not be probed (" + t + ")");
        }
    }

    private static int errno(StructLayout capture, MemorySegment state) {
        return (int) capture.varHandle(MemoryLayout.PathElement.groupElement("errno")).get(state, 0L);
    }

    private static String name(int errno) {
        return ERRNO_NAMES.getOrDefault(errno, "errno " + errno);
    }
}
