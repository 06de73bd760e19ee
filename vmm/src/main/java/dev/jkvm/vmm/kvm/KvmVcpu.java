package dev.jkvm.vmm.kvm;

import dev.jkvm.vmm.vcpu.CpuidEntry;
import dev.jkvm.vmm.vcpu.MpState;
import dev.jkvm.vmm.vcpu.Regs;
import dev.jkvm.vmm.vcpu.Sregs;
import dev.jkvm.vmm.vcpu.Vcpu;
import dev.jkvm.vmm.vcpu.VcpuExit;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * A vCPU fd and its mmapped {@code struct kvm_run}. State ioctls may be called from any thread
 * while the vCPU is not running; {@link #run()} is called only by the vCPU's own thread.
 *
 * <p>Kicks: immediate_exit covers a thread about to enter KVM_RUN, the {@link KickSignal} a
 * thread already inside it (KVM API doc, kvm_run.immediate_exit and §4.22).
 */
public final class KvmVcpu implements Vcpu {
    private final int fd;
    private final int index;
    private final String object;
    private final MemorySegment run;
    private boolean closed;

    private final Object kickLock = new Object();
    /** Kernel thread id of the bound thread, valid while {@link #bound}. */
    private int tid;
    private boolean bound;
    private KickSignal kickSignal;

    /** Port and MMIO data live in kvm_run itself: these views read and fill it in place. */
    private final VcpuExit.PortData portData = new VcpuExit.PortData() {
        @Override
        public int get(int i) {
            long at = ioAt(i);
            return switch (run.get(JAVA_BYTE, KvmAbi.RUN_IO_SIZE)) {
                case 1 -> Byte.toUnsignedInt(run.get(JAVA_BYTE, at));
                case 2 -> Short.toUnsignedInt(run.get(JAVA_SHORT_UNALIGNED, at));
                default -> run.get(JAVA_INT_UNALIGNED, at);
            };
        }

        @Override
        public void set(int i, int value) {
            long at = ioAt(i);
            switch (run.get(JAVA_BYTE, KvmAbi.RUN_IO_SIZE)) {
                case 1 -> run.set(JAVA_BYTE, at, (byte) value);
                case 2 -> run.set(JAVA_SHORT_UNALIGNED, at, (short) value);
                default -> run.set(JAVA_INT_UNALIGNED, at, value);
            }
        }

        private long ioAt(int i) {
            return run.get(JAVA_LONG, KvmAbi.RUN_IO_DATA_OFFSET) + (long) i * run.get(JAVA_BYTE, KvmAbi.RUN_IO_SIZE);
        }
    };

    private final VcpuExit.MmioData mmioData = this::setMmioData;
    // The frequent exits, reused (valid until the next run): the exit path allocates nothing.
    private final VcpuExit.PortIn portIn = new VcpuExit.PortIn(portData);
    private final VcpuExit.PortOut portOut = new VcpuExit.PortOut(portData);
    private final VcpuExit.MmioRead mmioRead = new VcpuExit.MmioRead(mmioData);
    private final VcpuExit.MmioWrite mmioWrite = new VcpuExit.MmioWrite();

    private void setMmioData(long value) {
        int len = run.get(JAVA_INT, KvmAbi.RUN_MMIO_LEN);
        for (int i = 0; i < len && i < KvmAbi.RUN_MMIO_DATA_SIZE; i++) {
            run.set(JAVA_BYTE, KvmAbi.RUN_MMIO_DATA + i, (byte) (value >>> (8 * i)));
        }
    }

    KvmVcpu(int fd, int index, MemorySegment run) {
        this.fd = fd;
        this.index = index;
        this.object = "vcpu " + index;
        this.run = run;
    }

    @Override
    public int index() { return index; }

    /** The shared kvm_run area (exit reason and exit data; KvmAbi.RUN_* offsets). */
    public MemorySegment runArea() { return run; }

    /**
     * Blocks the kick signal in user space on this thread and lets KVM unblock it only inside
     * KVM_RUN, so a kick either interrupts KVM_RUN or stays pending until the next one.
     */
    @Override
    public void bindToCurrentThread() {
        KickSignal kick = KickSignal.get();
        setSignalMask(kick.blockOnCurrentThread());
        synchronized (kickLock) {
            kickSignal = kick;
            tid = Libc.gettid();
            bound = true;
        }
    }

    @Override
    public void unbindFromCurrentThread() {
        KickSignal kick;
        synchronized (kickLock) {
            bound = false;
            kick = kickSignal;
        }
        // No kick can come now; take any still pending so thread teardown, which resets the
        // signal mask, finds none.
        if (kick != null) kick.drainPending();
    }

    @Override
    public void kick() {
        synchronized (kickLock) {
            setImmediateExit(true);
            if (bound) kickSignal.send(tid, object);
        }
    }

    /**
     * KVM_RUN, decoded. -EINTR (a kick: signal or immediate_exit) and -EAGAIN (an application
     * processor left the wait-for-SIPI state: KVM returns to user space once as the AP wakes from
     * KVM_MP_STATE_UNINITIALIZED) both become {@link VcpuExit.Interrupted}; the kick is consumed.
     */
    @Override
    public VcpuExit run() {
        int r = Libc.ioctlOrErrno(fd, KvmAbi.KVM_RUN, 0L);
        if (r < 0) {
            if (r != -LibcAbi.EINTR && r != -LibcAbi.EAGAIN) throw new KvmException("KVM_RUN", object, -r);
            if (r == -LibcAbi.EINTR) {
                KickSignal kick = kickSignal;
                if (kick != null) kick.drainPending();
                synchronized (kickLock) {
                    setImmediateExit(false);
                }
            }
            return VcpuExit.Interrupted.INSTANCE;
        }
        return decodeExit(exitReason());
    }

    private VcpuExit decodeExit(int reason) {
        return switch (reason) {
            case KvmAbi.KVM_EXIT_IO -> {
                int port = Short.toUnsignedInt(run.get(JAVA_SHORT, KvmAbi.RUN_IO_PORT));
                int size = run.get(JAVA_BYTE, KvmAbi.RUN_IO_SIZE);
                int count = run.get(JAVA_INT, KvmAbi.RUN_IO_COUNT);
                yield run.get(JAVA_BYTE, KvmAbi.RUN_IO_DIRECTION) == KvmAbi.KVM_EXIT_IO_OUT
                        ? portOut.reset(port, size, count)
                        : portIn.reset(port, size, count);
            }
            case KvmAbi.KVM_EXIT_MMIO -> {
                long address = run.get(JAVA_LONG, KvmAbi.RUN_MMIO_PHYS_ADDR);
                int len = run.get(JAVA_INT, KvmAbi.RUN_MMIO_LEN);
                if (run.get(JAVA_BYTE, KvmAbi.RUN_MMIO_IS_WRITE) != 0) {
                    long value = run.get(JAVA_LONG_UNALIGNED, KvmAbi.RUN_MMIO_DATA);
                    if (len < 8) value &= (1L << (len * 8)) - 1;
                    yield mmioWrite.reset(address, len, value);
                }
                yield mmioRead.reset(address, len);
            }
            case KvmAbi.KVM_EXIT_INTR -> VcpuExit.Interrupted.INSTANCE;
            case KvmAbi.KVM_EXIT_HLT -> VcpuExit.Halt.INSTANCE;
            case KvmAbi.KVM_EXIT_SHUTDOWN -> new VcpuExit.Shutdown("KVM_EXIT_SHUTDOWN (triple fault)");
            case KvmAbi.KVM_EXIT_INTERNAL_ERROR -> {
                int suberror = run.get(JAVA_INT, KvmAbi.RUN_INTERNAL_SUBERROR);
                yield new VcpuExit.InternalError(
                        "KVM_EXIT_INTERNAL_ERROR suberror " + suberror + " (" + suberrorName(suberror) + ")",
                        "internal data: " + words(KvmAbi.RUN_INTERNAL_NDATA, KvmAbi.RUN_INTERNAL_DATA, KvmAbi.RUN_INTERNAL_DATA_SIZE));
            }
            case KvmAbi.KVM_EXIT_FAIL_ENTRY -> {
                long hw = run.get(JAVA_LONG, KvmAbi.RUN_FAIL_ENTRY_HARDWARE_ENTRY_FAILURE_REASON);
                int cpu = run.get(JAVA_INT, KvmAbi.RUN_FAIL_ENTRY_CPU);
                yield new VcpuExit.EntryFailure(
                        "KVM_EXIT_FAIL_ENTRY hardware entry failure reason 0x" + Long.toHexString(hw) + " on host cpu " + cpu);
            }
            case KvmAbi.KVM_EXIT_SYSTEM_EVENT -> {
                int type = run.get(JAVA_INT, KvmAbi.RUN_SYSTEM_EVENT_TYPE);
                String data = "event data: " + words(KvmAbi.RUN_SYSTEM_EVENT_NDATA, KvmAbi.RUN_SYSTEM_EVENT_DATA, KvmAbi.RUN_SYSTEM_EVENT_DATA_SIZE);
                yield switch (type) {
                    case KvmAbi.KVM_SYSTEM_EVENT_SHUTDOWN -> new VcpuExit.SystemEvent(VcpuExit.SystemEvent.Type.SHUTDOWN,
                            "guest powered off (KVM_SYSTEM_EVENT_SHUTDOWN)", data);
                    case KvmAbi.KVM_SYSTEM_EVENT_RESET -> new VcpuExit.SystemEvent(VcpuExit.SystemEvent.Type.RESET,
                            "guest requested a reset (KVM_SYSTEM_EVENT_RESET)", data);
                    case KvmAbi.KVM_SYSTEM_EVENT_CRASH -> new VcpuExit.SystemEvent(VcpuExit.SystemEvent.Type.CRASH,
                            "guest reported a crash (KVM_SYSTEM_EVENT_CRASH)", data);
                    default -> new VcpuExit.SystemEvent(VcpuExit.SystemEvent.Type.OTHER, "unknown KVM system event " + type, data);
                };
            }
            default -> new VcpuExit.InternalError("unhandled exit " + KvmAbi.exitReasonName(reason), "");
        };
    }

    private String words(long ndataOffset, long dataOffset, long dataSize) {
        int n = (int) Math.min(run.get(JAVA_INT, ndataOffset), dataSize / 8);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (i > 0) b.append(' ');
            b.append(String.format("%x", run.get(JAVA_LONG, dataOffset + 8L * i)));
        }
        return n == 0 ? "none" : b.toString();
    }

    private static String suberrorName(int suberror) {
        return switch (suberror) {
            case KvmAbi.KVM_INTERNAL_ERROR_EMULATION -> "instruction emulation failed";
            case KvmAbi.KVM_INTERNAL_ERROR_SIMUL_EX -> "exception while delivering an exception";
            case KvmAbi.KVM_INTERNAL_ERROR_DELIVERY_EV -> "exit during event delivery";
            case KvmAbi.KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON -> "unexpected exit reason";
            default -> "unknown";
        };
    }

    public int exitReason() { return run.get(JAVA_INT, KvmAbi.RUN_EXIT_REASON); }

    /** kvm_run.immediate_exit: KVM_RUN returns EINTR at once while set (KVM_CAP_IMMEDIATE_EXIT). */
    public void setImmediateExit(boolean on) {
        run.set(JAVA_BYTE, KvmAbi.RUN_IMMEDIATE_EXIT, (byte) (on ? 1 : 0));
    }

    @Override
    public Regs regs() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.REGS_SIZE, 8);
            Libc.ioctl(fd, KvmAbi.KVM_GET_REGS, m, "KVM_GET_REGS", object);
            return KvmStructs.readRegs(m);
        }
    }

    @Override
    public void setRegs(Regs regs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.REGS_SIZE, 8);
            KvmStructs.writeRegs(m, regs);
            Libc.ioctl(fd, KvmAbi.KVM_SET_REGS, m, "KVM_SET_REGS", object);
        }
    }

    @Override
    public Sregs sregs() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.SREGS_SIZE, 8);
            Libc.ioctl(fd, KvmAbi.KVM_GET_SREGS, m, "KVM_GET_SREGS", object);
            return KvmStructs.readSregs(m);
        }
    }

    @Override
    public void setSregs(Sregs sregs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.SREGS_SIZE, 8);
            KvmStructs.writeSregs(m, sregs);
            Libc.ioctl(fd, KvmAbi.KVM_SET_SREGS, m, "KVM_SET_SREGS", object);
        }
    }

    /** KVM_GET_FPU, patch FCW and MXCSR, KVM_SET_FPU. */
    @Override
    public void setFpuControl(int fcw, int mxcsr) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.FPU_SIZE, 16);
            Libc.ioctl(fd, KvmAbi.KVM_GET_FPU, m, "KVM_GET_FPU", object);
            m.set(JAVA_SHORT, KvmAbi.FPU_FCW, (short) fcw);
            m.set(JAVA_INT, KvmAbi.FPU_MXCSR, mxcsr);
            Libc.ioctl(fd, KvmAbi.KVM_SET_FPU, m, "KVM_SET_FPU", object);
        }
    }

    /**
     * KVM_SET_GUEST_DEBUG with KVM_GUESTDBG_SINGLESTEP: while on, KVM_RUN returns after every guest
     * instruction with exit reason KVM_EXIT_DEBUG (KVM API doc §4.59; {@link #run()} reports that
     * exit as an internal error, callers check {@link #exitReason()}). For the lockstep oracle tests.
     */
    public void setSingleStep(boolean on) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.GUEST_DEBUG_SIZE, 8);
            m.set(JAVA_INT, 0, on ? KvmAbi.KVM_GUESTDBG_ENABLE | KvmAbi.KVM_GUESTDBG_SINGLESTEP : 0);
            Libc.ioctl(fd, KvmAbi.KVM_SET_GUEST_DEBUG, m, "KVM_SET_GUEST_DEBUG", object);
        }
    }

    /**
     * XMM0..15 into {@code xmm} (low, high quadword each); returns MXCSR. Through KVM_GET_XSAVE, not
     * KVM_GET_FPU: on this project's nested KVM (kvm_pvm) KVM_GET_FPU reports MXCSR as 0 whatever
     * the guest's value (measured 2026-12-03; the XSAVE area has it right).
     */
    public int sseState(long[] xmm) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.XSAVE_SIZE, 64);
            Libc.ioctl(fd, KvmAbi.KVM_GET_XSAVE, m, "KVM_GET_XSAVE", object);
            // XSTATE_BV bit 1 clear: the SSE state is in its initial configuration (zeros; SDM Vol. 1 §13.6).
            boolean init = (m.get(JAVA_LONG, KvmAbi.XSAVE_XSTATE_BV) & 2) == 0;
            for (int i = 0; i < 32; i++) xmm[i] = init ? 0 : m.get(JAVA_LONG, KvmAbi.XSAVE_XMM + 8L * i);
            return m.get(JAVA_INT, KvmAbi.XSAVE_MXCSR);
        }
    }

    /** KVM_GET_XSAVE, replace XMM0..15 and MXCSR (marking the SSE component in use), KVM_SET_XSAVE. */
    public void setSseState(long[] xmm, int mxcsr) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.XSAVE_SIZE, 64);
            Libc.ioctl(fd, KvmAbi.KVM_GET_XSAVE, m, "KVM_GET_XSAVE", object);
            for (int i = 0; i < 32; i++) m.set(JAVA_LONG, KvmAbi.XSAVE_XMM + 8L * i, xmm[i]);
            m.set(JAVA_INT, KvmAbi.XSAVE_MXCSR, mxcsr);
            m.set(JAVA_LONG, KvmAbi.XSAVE_XSTATE_BV, m.get(JAVA_LONG, KvmAbi.XSAVE_XSTATE_BV) | 2);
            Libc.ioctl(fd, KvmAbi.KVM_SET_XSAVE, m, "KVM_SET_XSAVE", object);
        }
    }

    @Override
    public void setCpuid(List<CpuidEntry> entries) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.CPUID2_SIZE + entries.size() * KvmAbi.CPUID_ENTRY_SIZE, 8);
            m.set(JAVA_INT, KvmAbi.CPUID2_NENT, entries.size());
            for (int i = 0; i < entries.size(); i++) {
                KvmStructs.writeCpuidEntry(m, KvmAbi.CPUID2_ENTRIES + i * KvmAbi.CPUID_ENTRY_SIZE, entries.get(i));
            }
            Libc.ioctl(fd, KvmAbi.KVM_SET_CPUID2, m, "KVM_SET_CPUID2", object);
        }
    }

    /** KVM_SET_MSRS; KVM stops at the first MSR it refuses, so a short count names that MSR. */
    @Override
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
    @Override
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

    @Override
    public MpState mpState() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.MP_STATE_SIZE, 4);
            Libc.ioctl(fd, KvmAbi.KVM_GET_MP_STATE, m, "KVM_GET_MP_STATE", object);
            return switch (m.get(JAVA_INT, KvmAbi.MP_STATE_MP_STATE)) {
                case KvmAbi.KVM_MP_STATE_UNINITIALIZED -> MpState.UNINITIALIZED;
                case KvmAbi.KVM_MP_STATE_INIT_RECEIVED -> MpState.INIT_RECEIVED;
                case KvmAbi.KVM_MP_STATE_HALTED -> MpState.HALTED;
                case KvmAbi.KVM_MP_STATE_SIPI_RECEIVED -> MpState.SIPI_RECEIVED;
                default -> MpState.RUNNABLE;
            };
        }
    }

    @Override
    public void setMpState(MpState state) {
        int kvmState = switch (state) {
            case RUNNABLE -> KvmAbi.KVM_MP_STATE_RUNNABLE;
            case UNINITIALIZED -> KvmAbi.KVM_MP_STATE_UNINITIALIZED;
            case INIT_RECEIVED -> KvmAbi.KVM_MP_STATE_INIT_RECEIVED;
            case HALTED -> KvmAbi.KVM_MP_STATE_HALTED;
            case SIPI_RECEIVED -> KvmAbi.KVM_MP_STATE_SIPI_RECEIVED;
        };
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(KvmAbi.MP_STATE_SIZE, 4);
            m.set(JAVA_INT, KvmAbi.MP_STATE_MP_STATE, kvmState);
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
