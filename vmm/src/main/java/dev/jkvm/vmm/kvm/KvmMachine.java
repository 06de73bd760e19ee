package dev.jkvm.vmm.kvm;

import dev.jkvm.vmm.devices.InterruptLines;
import dev.jkvm.vmm.memory.GuestLayout;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.vcpu.Accelerator;
import dev.jkvm.vmm.vcpu.CpuidEntry;
import dev.jkvm.vmm.vcpu.MachineBackend;
import dev.jkvm.vmm.vcpu.Vcpu;

import java.util.List;

/**
 * The KVM accelerator: /dev/kvm, one VM fd with the in-kernel irqchip (PIC, IOAPIC, LAPICs) and
 * PIT, guest RAM as user memory slots, one {@link KvmVcpu} per vCPU.
 */
public final class KvmMachine implements MachineBackend {
    /** xAPIC IDs are 8 bits and 0xFF is the broadcast ID (SDM Vol. 3 §10.6.2.1). */
    static final int X2APIC_ONLY_CPUS = 255;

    private final Kvm kvm;
    private final KvmVm vm;
    private final int maxVcpus;
    private boolean closed;

    private KvmMachine(Kvm kvm, KvmVm vm, int maxVcpus) {
        this.kvm = kvm;
        this.vm = vm;
        this.maxVcpus = maxVcpus;
    }

    /**
     * Opens /dev/kvm, checks every capability the VMM depends on and creates a VM for
     * {@code cpus} vCPUs with its in-kernel interrupt controllers and PIT.
     */
    public static KvmMachine create(int cpus) {
        return create(cpus, true);
    }

    /**
     * As above; without {@code pit} KVM_CREATE_PIT2 is not called, so ports 0x40-0x43 and 0x61
     * reach the VMM, which has no device there (a machine without an 8254, as QEMU's pit=off).
     */
    public static KvmMachine create(int cpus, boolean pit) {
        Kvm kvm = Kvm.open();
        KvmVm vm = null;
        try {
            kvm.require(KvmAbi.KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP");
            kvm.require(KvmAbi.KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY");
            kvm.require(KvmAbi.KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR");
            kvm.require(KvmAbi.KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR");
            kvm.require(KvmAbi.KVM_CAP_PIT2, "KVM_CAP_PIT2");
            kvm.require(KvmAbi.KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID");
            kvm.require(KvmAbi.KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE");
            kvm.require(KvmAbi.KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT");
            int maxVcpus = kvm.checkExtension(KvmAbi.KVM_CAP_MAX_VCPUS);
            if (cpus > maxVcpus) {
                throw new IllegalArgumentException(cpus + " vCPUs requested but this KVM allows at most " + maxVcpus + "; use fewer CPUs");
            }
            vm = kvm.createVm();
            if (cpus > X2APIC_ONLY_CPUS) {
                // APIC IDs from 255 up exist only as x2APIC IDs; KVM routes interrupts to them
                // (and reports them in LAPIC state) only with the 32-bit ID API, which must be
                // enabled before the first vCPU exists (KVM API doc §7.18).
                kvm.require(KvmAbi.KVM_CAP_X2APIC_API, "KVM_CAP_X2APIC_API");
                vm.enableCap(KvmAbi.KVM_CAP_X2APIC_API,
                        KvmAbi.KVM_X2APIC_API_USE_32BIT_IDS | KvmAbi.KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK,
                        "KVM_CAP_X2APIC_API");
            }
            // KVM API doc §4.40/§4.53: both areas must be set before the first vCPU is created.
            vm.setTssAddr(GuestLayout.TSS_ADDR);
            vm.setIdentityMapAddr(GuestLayout.IDENTITY_MAP_ADDR);
            vm.createIrqchip();
            if (pit) vm.createPit2();
            return new KvmMachine(kvm, vm, maxVcpus);
        } catch (RuntimeException e) {
            if (vm != null) closeQuietly(vm, e);
            closeQuietly(kvm, e);
            throw e;
        }
    }

    /**
     * Why KVM cannot be used on this host, or null when it can: /dev/kvm opens, speaks API
     * version 12 and creates a VM (a device node alone proves nothing: a container may have one
     * its user cannot open, a nested host one that refuses VMs).
     */
    public static String unavailableReason() {
        java.nio.file.Path dev = java.nio.file.Path.of("/dev/kvm");
        if (!java.nio.file.Files.exists(dev)) return dev + " does not exist";
        if (!java.nio.file.Files.isReadable(dev) || !java.nio.file.Files.isWritable(dev)) return dev + " is not accessible to this user";
        try (Kvm kvm = Kvm.open(); KvmVm vm = kvm.createVm()) {
            return null;
        } catch (KvmException e) {
            return e.getMessage();
        } catch (RuntimeException | LinkageError e) {
            return "/dev/kvm could not be used: " + e;
        }
    }

    private static void closeQuietly(AutoCloseable c, Throwable primary) {
        try {
            c.close();
        } catch (Exception suppressed) {
            primary.addSuppressed(suppressed);
        }
    }

    @Override
    public Accelerator accelerator() { return Accelerator.KVM; }

    @Override
    public int maxVcpus() { return maxVcpus; }

    @Override
    public List<CpuidEntry> supportedCpuid() { return kvm.supportedCpuid(); }

    /** KVM_SET_USER_MEMORY_REGION for every RAM region, one slot each. */
    @Override
    public void mapMemory(GuestMemory memory) {
        int slot = 0;
        for (GuestMemory.Region r : memory.regions()) vm.setUserMemoryRegion(slot++, r.base(), r.segment());
    }

    @Override
    public Vcpu createVcpu(int index) { return vm.createVcpu(index); }

    @Override
    public InterruptLines interruptLines() { return vm; }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        RuntimeException failure = null;
        for (AutoCloseable c : new AutoCloseable[] {vm, kvm}) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) failure = e instanceof RuntimeException r ? r : new IllegalStateException(e);
                else failure.addSuppressed(e);
            }
        }
        if (failure != null) throw failure;
    }
}
