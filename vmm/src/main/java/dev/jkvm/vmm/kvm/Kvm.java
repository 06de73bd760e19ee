package dev.jkvm.vmm.kvm;

import dev.jkvm.vmm.vcpu.CpuidEntry;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The KVM system fd (/dev/kvm): API version check, capability queries, the host-supported CPUID
 * and VM creation (KVM API doc §4.1–4.4, §4.46).
 */
public final class Kvm implements AutoCloseable {
    private static final String OBJECT = "/dev/kvm";
    private final int fd;
    private boolean closed;

    private Kvm(int fd) { this.fd = fd; }

    /** Opens /dev/kvm and checks that it speaks the stable API (version 12). */
    public static Kvm open() {
        int fd = Libc.open(OBJECT, LibcAbi.O_RDWR | LibcAbi.O_CLOEXEC, OBJECT);
        Kvm kvm = new Kvm(fd);
        int version = Libc.ioctl(fd, KvmAbi.KVM_GET_API_VERSION, 0L, "KVM_GET_API_VERSION", OBJECT);
        if (version != KvmAbi.KVM_API_VERSION) {
            kvm.close();
            throw new KvmException("KVM_GET_API_VERSION", OBJECT, "version " + version + ", expected " + KvmAbi.KVM_API_VERSION);
        }
        return kvm;
    }

    /** KVM_CHECK_EXTENSION: 0 when absent, otherwise a capability-specific positive value. */
    public int checkExtension(int capability) {
        return Libc.ioctl(fd, KvmAbi.KVM_CHECK_EXTENSION, capability, "KVM_CHECK_EXTENSION(" + capability + ")", OBJECT);
    }

    /** Throws a one-line explanation when a capability the VMM depends on is missing. */
    public void require(int capability, String name) {
        if (checkExtension(capability) <= 0) {
            throw new KvmException("KVM_CHECK_EXTENSION", OBJECT, name + " is not supported by this kernel; jkvm needs it");
        }
    }

    /** Size of the per-vCPU kvm_run mapping. */
    public int vcpuMmapSize() {
        return Libc.ioctl(fd, KvmAbi.KVM_GET_VCPU_MMAP_SIZE, 0L, "KVM_GET_VCPU_MMAP_SIZE", OBJECT);
    }

    /**
     * KVM_GET_SUPPORTED_CPUID: the CPUID leaves KVM can present to a guest. The kernel answers
     * E2BIG while the buffer is too small, so the buffer grows until it fits.
     */
    public List<CpuidEntry> supportedCpuid() {
        for (int capacity = 64; ; capacity *= 2) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(KvmAbi.CPUID2_SIZE + capacity * KvmAbi.CPUID_ENTRY_SIZE, 8);
                buf.set(JAVA_INT, KvmAbi.CPUID2_NENT, capacity);
                try {
                    Libc.ioctl(fd, KvmAbi.KVM_GET_SUPPORTED_CPUID, buf, "KVM_GET_SUPPORTED_CPUID", OBJECT);
                } catch (KvmException e) {
                    if (e.errno() == LibcAbi.E2BIG && capacity < 4096) continue;
                    throw e;
                }
                int n = buf.get(JAVA_INT, KvmAbi.CPUID2_NENT);
                List<CpuidEntry> entries = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    entries.add(KvmStructs.readCpuidEntry(buf, KvmAbi.CPUID2_ENTRIES + i * KvmAbi.CPUID_ENTRY_SIZE));
                }
                return entries;
            }
        }
    }

    /** KVM_CREATE_VM with the default machine type. */
    public KvmVm createVm() {
        int vmFd = Libc.ioctl(fd, KvmAbi.KVM_CREATE_VM, 0L, "KVM_CREATE_VM", OBJECT);
        return new KvmVm(vmFd, vcpuMmapSize());
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        Libc.close(fd, OBJECT);
    }
}
