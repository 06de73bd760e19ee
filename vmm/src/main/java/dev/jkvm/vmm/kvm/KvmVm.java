package dev.jkvm.vmm.kvm;

import dev.jkvm.vmm.devices.InterruptLines;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** A VM fd: memory slots, the in-kernel interrupt controllers and PIT, and vCPU creation. */
public final class KvmVm implements InterruptLines, AutoCloseable {
    private static final String OBJECT = "vm";
    private final int fd;
    private final int vcpuMmapSize;
    private boolean closed;

    KvmVm(int fd, int vcpuMmapSize) {
        this.fd = fd;
        this.vcpuMmapSize = vcpuMmapSize;
    }

    /** KVM_SET_TSS_ADDR: three pages of guest-physical space KVM uses for real-mode emulation on Intel. */
    public void setTssAddr(long gpa) {
        Libc.ioctl(fd, KvmAbi.KVM_SET_TSS_ADDR, gpa, "KVM_SET_TSS_ADDR", OBJECT);
    }

    /** KVM_SET_IDENTITY_MAP_ADDR: one page for the identity page table used while the guest has paging off. */
    public void setIdentityMapAddr(long gpa) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = arena.allocate(JAVA_LONG);
            addr.set(JAVA_LONG, 0, gpa);
            Libc.ioctl(fd, KvmAbi.KVM_SET_IDENTITY_MAP_ADDR, addr, "KVM_SET_IDENTITY_MAP_ADDR", OBJECT);
        }
    }

    /** KVM_CREATE_IRQCHIP: in-kernel PIC, IOAPIC and per-vCPU LAPICs. */
    public void createIrqchip() {
        Libc.ioctl(fd, KvmAbi.KVM_CREATE_IRQCHIP, 0L, "KVM_CREATE_IRQCHIP", OBJECT);
    }

    /** KVM_CREATE_PIT2: in-kernel i8254; the speaker port is left to KVM's dummy. */
    public void createPit2() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cfg = arena.allocate(KvmAbi.PIT_CONFIG_SIZE, 8);
            cfg.set(JAVA_INT, KvmAbi.PIT_CONFIG_FLAGS, KvmAbi.KVM_PIT_SPEAKER_DUMMY);
            Libc.ioctl(fd, KvmAbi.KVM_CREATE_PIT2, cfg, "KVM_CREATE_PIT2", OBJECT);
        }
    }

    /** KVM_ENABLE_CAP on the VM with the first argument. */
    public void enableCap(int capability, long arg0, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cap = arena.allocate(KvmAbi.ENABLE_CAP_SIZE, 8);
            cap.set(JAVA_INT, KvmAbi.ENABLE_CAP_CAP, capability);
            cap.set(JAVA_LONG, KvmAbi.ENABLE_CAP_ARGS, arg0);
            Libc.ioctl(fd, KvmAbi.KVM_ENABLE_CAP, cap, "KVM_ENABLE_CAP(" + name + ")", OBJECT);
        }
    }

    /** KVM_SET_USER_MEMORY_REGION: maps host memory as guest RAM in a slot. */
    public void setUserMemoryRegion(int slot, long guestPhysAddr, MemorySegment host) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment r = arena.allocate(KvmAbi.MEMORY_REGION_SIZE, 8);
            r.set(JAVA_INT, KvmAbi.MEMORY_REGION_SLOT, slot);
            r.set(JAVA_INT, KvmAbi.MEMORY_REGION_FLAGS, 0);
            r.set(JAVA_LONG, KvmAbi.MEMORY_REGION_GUEST_PHYS_ADDR, guestPhysAddr);
            r.set(JAVA_LONG, KvmAbi.MEMORY_REGION_MEMORY_SIZE, host.byteSize());
            r.set(JAVA_LONG, KvmAbi.MEMORY_REGION_USERSPACE_ADDR, host.address());
            Libc.ioctl(fd, KvmAbi.KVM_SET_USER_MEMORY_REGION, r, "KVM_SET_USER_MEMORY_REGION(slot " + slot + ")", OBJECT);
        }
    }

    /** KVM_IRQ_LINE: drives a GSI on the in-kernel IOAPIC (and PIC for GSIs below 16). */
    @Override
    public void setLevel(int gsi, boolean high) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment irq = arena.allocate(KvmAbi.IRQ_LEVEL_SIZE, 8);
            irq.set(JAVA_INT, KvmAbi.IRQ_LEVEL_IRQ, gsi);
            irq.set(JAVA_INT, KvmAbi.IRQ_LEVEL_LEVEL, high ? 1 : 0);
            Libc.ioctl(fd, KvmAbi.KVM_IRQ_LINE, irq, "KVM_IRQ_LINE(gsi " + gsi + ")", OBJECT);
        }
    }

    /** KVM_CREATE_VCPU with {@code id} as its APIC ID, and maps its kvm_run area. */
    public KvmVcpu createVcpu(int id) {
        int vcpuFd = Libc.ioctl(fd, KvmAbi.KVM_CREATE_VCPU, id, "KVM_CREATE_VCPU(" + id + ")", OBJECT);
        try {
            MemorySegment run = Libc.mmap(vcpuMmapSize, LibcAbi.PROT_READ | LibcAbi.PROT_WRITE,
                    LibcAbi.MAP_SHARED, vcpuFd, 0, "vcpu " + id + " kvm_run");
            return new KvmVcpu(vcpuFd, id, run);
        } catch (KvmException e) {
            Libc.close(vcpuFd, "vcpu " + id);
            throw e;
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        Libc.close(fd, OBJECT);
    }
}
