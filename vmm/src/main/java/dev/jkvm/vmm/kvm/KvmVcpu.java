package dev.jkvm.vmm.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A vCPU fd and its mmapped {@code struct kvm_run}. State ioctls may be called from any thread
 * while the vCPU is not running; {@link #run()} is called only by the vCPU's own thread.
 */
public final class KvmVcpu implements AutoCloseable {
    private final int fd;
    private final int index;
    private final String object;
    private final MemorySegment run;
    private boolean closed;

    KvmVcpu(int fd, int index, MemorySegment run) {
        this.fd = fd;
        this.index = index;
        this.object = "vcpu " + index;
        this.run = run;
    }

    public int index() { return index; }

    /** The shared kvm_run area (exit reason and exit data; KvmAbi.RUN_* offsets). */
    public MemorySegment runArea() { return run; }

    /**
     * KVM_RUN: 0 after a VM exit; -EINTR when a signal or immediate_exit interrupted it; -EAGAIN
     * when an application processor left the wait-for-SIPI state (KVM returns to user space
     * once as the AP wakes from KVM_MP_STATE_UNINITIALIZED) — both mean "run again".
     */
    public int run() {
        int r = Libc.ioctlOrErrno(fd, KvmAbi.KVM_RUN, 0L);
        if (r < 0 && r != -LibcAbi.EINTR && r != -LibcAbi.EAGAIN) {
            throw new KvmException("KVM_RUN", object, -r);
        }
        return r;
    }

    public int exitReason() { return run.get(JAVA_INT, KvmAbi.RUN_EXIT_REASON); }

    /** kvm_run.immediate_exit: KVM_RUN returns EINTR at once while set (KVM_CAP_IMMEDIATE_EXIT). */
    public void setImmediateExit(boolean on) {
        run.set(JAVA_BYTE, KvmAbi.RUN_IMMEDIATE_EXIT, (byte) (on ? 1 : 0));
    }

    public Regs regs() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.REGS_SIZE, 8);
            Libc.ioctl(fd, KvmAbi.KVM_GET_REGS, m, "KVM_GET_REGS", object);
            return Regs.read(m);
        }
    }

    public void setRegs(Regs regs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.REGS_SIZE, 8);
            regs.write(m);
            Libc.ioctl(fd, KvmAbi.KVM_SET_REGS, m, "KVM_SET_REGS", object);
        }
    }

    public Sregs sregs() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.SREGS_SIZE, 8);
            Libc.ioctl(fd, KvmAbi.KVM_GET_SREGS, m, "KVM_GET_SREGS", object);
            return Sregs.read(m);
        }
    }

    public void setSregs(Sregs sregs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.SREGS_SIZE, 8);
            sregs.write(m);
            Libc.ioctl(fd, KvmAbi.KVM_SET_SREGS, m, "KVM_SET_SREGS", object);
        }
    }

    /**
     * Sets the x87 control word and MXCSR, keeping the rest of the FPU state (KVM_GET/SET_FPU).
     * The power-on values are FCW 0x037F and MXCSR 0x1F80 (Intel SDM Vol. 3 §9.1.1, Table 9-1).
     */
    public void setFpuControl(int fcw, int mxcsr) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.FPU_SIZE, 16);
            Libc.ioctl(fd, KvmAbi.KVM_GET_FPU, m, "KVM_GET_FPU", object);
            m.set(JAVA_SHORT, KvmAbi.FPU_FCW, (short) fcw);
            m.set(JAVA_INT, KvmAbi.FPU_MXCSR, mxcsr);
            Libc.ioctl(fd, KvmAbi.KVM_SET_FPU, m, "KVM_SET_FPU", object);
        }
    }

    public void setCpuid(List<CpuidEntry> entries) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.CPUID2_SIZE + entries.size() * KvmAbi.CPUID_ENTRY_SIZE, 8);
            m.set(JAVA_INT, KvmAbi.CPUID2_NENT, entries.size());
            for (int i = 0; i < entries.size(); i++) {
                entries.get(i).write(m, KvmAbi.CPUID2_ENTRIES + i * KvmAbi.CPUID_ENTRY_SIZE);
            }
            Libc.ioctl(fd, KvmAbi.KVM_SET_CPUID2, m, "KVM_SET_CPUID2", object);
        }
    }

    /** KVM_SET_MSRS; KVM stops at the first MSR it refuses, so a short count names that MSR. */
    public void setMsrs(Map<Integer, Long> msrs) {
        Integer[] indices = msrs.keySet().toArray(new Integer[0]);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.MSRS_SIZE + indices.length * KvmAbi.MSR_ENTRY_SIZE, 8);
            m.set(JAVA_INT, KvmAbi.MSRS_NMSRS, indices.length);
            for (int i = 0; i < indices.length; i++) {
                long at = KvmAbi.MSRS_ENTRIES + i * KvmAbi.MSR_ENTRY_SIZE;
                m.set(JAVA_INT, at + KvmAbi.MSR_ENTRY_INDEX, indices[i]);
                m.set(JAVA_LONG, at + KvmAbi.MSR_ENTRY_DATA, msrs.get(indices[i]));
            }
            int done = Libc.ioctl(fd, KvmAbi.KVM_SET_MSRS, m, "KVM_SET_MSRS", object);
            if (done != indices.length) {
                throw new KvmException("KVM_SET_MSRS", object,
                        "MSR 0x" + Integer.toHexString(indices[done]) + " was refused");
            }
        }
    }

    /** KVM_GET_MSRS for one MSR. */
    public long msr(int index) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.MSRS_SIZE + KvmAbi.MSR_ENTRY_SIZE, 8);
            m.set(JAVA_INT, KvmAbi.MSRS_NMSRS, 1);
            m.set(JAVA_INT, KvmAbi.MSRS_ENTRIES + KvmAbi.MSR_ENTRY_INDEX, index);
            int done = Libc.ioctl(fd, KvmAbi.KVM_GET_MSRS, m, "KVM_GET_MSRS", object);
            if (done != 1) throw new KvmException("KVM_GET_MSRS", object, "MSR 0x" + Integer.toHexString(index) + " is not readable");
            return m.get(JAVA_LONG, KvmAbi.MSRS_ENTRIES + KvmAbi.MSR_ENTRY_DATA);
        }
    }

    /** KVM_GET_LAPIC: the 1 KiB xAPIC register page. */
    public byte[] lapic() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.LAPIC_STATE_SIZE, 8);
            Libc.ioctl(fd, KvmAbi.KVM_GET_LAPIC, m, "KVM_GET_LAPIC", object);
            return m.asSlice(KvmAbi.LAPIC_REGS, KvmAbi.KVM_APIC_REG_SIZE).toArray(JAVA_BYTE);
        }
    }

    public void setLapic(byte[] regs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.LAPIC_STATE_SIZE, 8);
            MemorySegment.copy(regs, 0, m, JAVA_BYTE, KvmAbi.LAPIC_REGS, Math.min(regs.length, KvmAbi.KVM_APIC_REG_SIZE));
            Libc.ioctl(fd, KvmAbi.KVM_SET_LAPIC, m, "KVM_SET_LAPIC", object);
        }
    }

    public int mpState() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.MP_STATE_SIZE, 4);
            Libc.ioctl(fd, KvmAbi.KVM_GET_MP_STATE, m, "KVM_GET_MP_STATE", object);
            return m.get(JAVA_INT, KvmAbi.MP_STATE_MP_STATE);
        }
    }

    public void setMpState(int state) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.MP_STATE_SIZE, 4);
            m.set(JAVA_INT, KvmAbi.MP_STATE_MP_STATE, state);
            Libc.ioctl(fd, KvmAbi.KVM_SET_MP_STATE, m, "KVM_SET_MP_STATE", object);
        }
    }

    /**
     * KVM_SET_SIGNAL_MASK: the signal mask in force while the vCPU is inside KVM_RUN, as a
     * kernel sigset (KVM API doc §4.22).
     */
    public void setSignalMask(long kernelSigset) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.SIGNAL_MASK_SIZE + LibcAbi.KERNEL_SIGSET_SIZE, 8);
            m.set(JAVA_INT, KvmAbi.SIGNAL_MASK_LEN, LibcAbi.KERNEL_SIGSET_SIZE);
            // The sigset follows a 4-byte length: it is not 8-byte aligned.
            m.set(JAVA_LONG_UNALIGNED, KvmAbi.SIGNAL_MASK_SIGSET, kernelSigset);
            Libc.ioctl(fd, KvmAbi.KVM_SET_SIGNAL_MASK, m, "KVM_SET_SIGNAL_MASK", object);
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        Libc.munmap(run, object + " kvm_run");
        Libc.close(fd, object);
    }
}
