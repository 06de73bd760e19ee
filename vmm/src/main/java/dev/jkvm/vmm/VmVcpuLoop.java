package dev.jkvm.vmm;

import dev.jkvm.vmm.api.VmOutcome;
import dev.jkvm.vmm.cpu.CrashReport;
import dev.jkvm.vmm.kvm.KickSignal;
import dev.jkvm.vmm.kvm.KvmAbi;
import dev.jkvm.vmm.kvm.KvmVcpu;
import dev.jkvm.vmm.kvm.Libc;
import dev.jkvm.vmm.kvm.LibcAbi;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLongArray;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * The body of one vCPU thread: KVM_RUN, dispatch the exit, repeat until the VM stops. Guest
 * accesses never end the VMM: unknown ports and MMIO addresses are absorbed by the buses; only
 * states the guest cannot continue from (triple fault, emulation or entry failure, a system
 * event, a device model failure) end the VM with an outcome.
 */
final class VmVcpuLoop implements Runnable {
    private final Vm vm;
    private final KvmVcpu vcpu;
    private final MemorySegment run;
    private final AtomicLongArray exits = new AtomicLongArray(KvmAbi.EXIT_REASON_COUNT + 1);

    private final Object kickLock = new Object();
    /** Kernel thread id, valid between {@link #started} and {@link #exited}. */
    private int tid;
    private boolean started;
    private boolean exited;

    VmVcpuLoop(Vm vm, KvmVcpu vcpu) {
        this.vm = vm;
        this.vcpu = vcpu;
        this.run = vcpu.runArea();
    }

    int index() { return vcpu.index(); }

    /** Exit counts indexed by KVM exit reason; the last slot counts reasons beyond the known ones. */
    AtomicLongArray exitCounts() { return exits; }

    /**
     * Makes KVM_RUN return: immediate_exit covers a thread about to enter KVM_RUN, the signal a
     * thread already inside it (KVM API doc, kvm_run.immediate_exit). Callers set the VM's stop
     * flag first, so the loop sees it on return.
     */
    /** Whether this vCPU's thread is inside its run loop (started and not yet exited). */
    boolean running() {
        synchronized (kickLock) {
            return started && !exited;
        }
    }

    void kick() {
        synchronized (kickLock) {
            vcpu.setImmediateExit(true);
            if (started && !exited) KickSignal.get().send(tid, "vcpu " + vcpu.index());
        }
    }

    @Override
    public void run() {
        KickSignal kick = KickSignal.get();
        try {
            vcpu.setSignalMask(kick.blockOnCurrentThread());
            synchronized (kickLock) {
                tid = Libc.gettid();
                started = true;
            }
            while (!vm.stopping()) {
                int r = vcpu.run();
                if (r == -LibcAbi.EINTR) {
                    kick.drainPending();
                    if (vm.pauseGate().pauseRequested()) {
                        vm.pauseGate().park(vm::stopping);
                    }
                    // The kick that paused us set immediate_exit, and so did one that came before
                    // this thread started (a pause and resume right after start: that pause found
                    // no running vCPU, and without this KVM_RUN would return EINTR forever). A stop
                    // that comes later sets it again before its signal; the loop condition sees it.
                    if (!vm.stopping()) vcpu.setImmediateExit(false);
                    continue;
                }
                if (r < 0) continue;
                int reason = vcpu.exitReason();
                exits.incrementAndGet(Math.min(Math.max(reason, 0), KvmAbi.EXIT_REASON_COUNT));
                if (!handleExit(reason)) break;
            }
        } catch (RuntimeException | Error e) {
            vm.finish(VmOutcome.vmmError("vCPU " + vcpu.index() + ": " + e));
        } finally {
            synchronized (kickLock) {
                exited = true;
            }
            // No kick can come now; take any still pending so thread teardown, which resets the
            // signal mask, finds none.
            kick.drainPending();
        }
    }

    /** Returns false when this vCPU can not continue. */
    private boolean handleExit(int reason) {
        switch (reason) {
            case KvmAbi.KVM_EXIT_IO -> {
                return handleIo();
            }
            case KvmAbi.KVM_EXIT_MMIO -> {
                return handleMmio();
            }
            case KvmAbi.KVM_EXIT_INTR -> {
                return true;
            }
            case KvmAbi.KVM_EXIT_SHUTDOWN -> {
                crash(VmOutcome.Kind.TRIPLE_FAULT, "KVM_EXIT_SHUTDOWN (triple fault)", "");
                return false;
            }
            case KvmAbi.KVM_EXIT_INTERNAL_ERROR -> {
                int suberror = run.get(JAVA_INT, KvmAbi.RUN_INTERNAL_SUBERROR);
                crash(VmOutcome.Kind.EMULATION_ERROR,
                        "KVM_EXIT_INTERNAL_ERROR suberror " + suberror + " (" + suberrorName(suberror) + ")",
                        "internal data: " + words(KvmAbi.RUN_INTERNAL_NDATA, KvmAbi.RUN_INTERNAL_DATA, KvmAbi.RUN_INTERNAL_DATA_SIZE));
                return false;
            }
            case KvmAbi.KVM_EXIT_FAIL_ENTRY -> {
                long hw = run.get(JAVA_LONG, KvmAbi.RUN_FAIL_ENTRY_HARDWARE_ENTRY_FAILURE_REASON);
                int cpu = run.get(JAVA_INT, KvmAbi.RUN_FAIL_ENTRY_CPU);
                crash(VmOutcome.Kind.ENTRY_FAILURE,
                        "KVM_EXIT_FAIL_ENTRY hardware entry failure reason 0x" + Long.toHexString(hw) + " on host cpu " + cpu, "");
                return false;
            }
            case KvmAbi.KVM_EXIT_SYSTEM_EVENT -> {
                handleSystemEvent();
                return false;
            }
            case KvmAbi.KVM_EXIT_HLT -> {
                vm.finish(VmOutcome.vmmError("vCPU " + vcpu.index() + " exited on HLT, which the in-kernel LAPIC should have handled"));
                return false;
            }
            default -> {
                vm.finish(VmOutcome.vmmError("vCPU " + vcpu.index() + ": unhandled exit " + KvmAbi.exitReasonName(reason)));
                return false;
            }
        }
    }

    /** Port I/O: {@code count} items of {@code size} bytes at data_offset (string I/O repeats the port). */
    private boolean handleIo() {
        int direction = run.get(JAVA_BYTE, KvmAbi.RUN_IO_DIRECTION);
        int size = run.get(JAVA_BYTE, KvmAbi.RUN_IO_SIZE);
        int port = Short.toUnsignedInt(run.get(JAVA_SHORT, KvmAbi.RUN_IO_PORT));
        int count = run.get(JAVA_INT, KvmAbi.RUN_IO_COUNT);
        long dataOffset = run.get(JAVA_LONG, KvmAbi.RUN_IO_DATA_OFFSET);
        for (int i = 0; i < count; i++) {
            long at = dataOffset + (long) i * size;
            try {
                if (direction == KvmAbi.KVM_EXIT_IO_OUT) {
                    int value = readData(at, size);
                    if (vm.tracing()) vm.trace(vcpu.index(), String.format("out port=0x%x size=%d value=0x%x", port, size, value));
                    vm.pio().write(port, size, value);
                } else {
                    int value = vm.pio().read(port, size);
                    if (vm.tracing()) vm.trace(vcpu.index(), String.format("in  port=0x%x size=%d value=0x%x", port, size, value));
                    writeData(at, size, value);
                }
            } catch (RuntimeException e) {
                vm.finish(VmOutcome.vmmError("device at port 0x" + Integer.toHexString(port) + " failed: " + e));
                return false;
            }
        }
        return true;
    }

    private int readData(long at, int size) {
        return switch (size) {
            case 1 -> Byte.toUnsignedInt(run.get(JAVA_BYTE, at));
            case 2 -> Short.toUnsignedInt(run.get(JAVA_SHORT_UNALIGNED, at));
            default -> run.get(JAVA_INT_UNALIGNED, at);
        };
    }

    private void writeData(long at, int size, int value) {
        switch (size) {
            case 1 -> run.set(JAVA_BYTE, at, (byte) value);
            case 2 -> run.set(JAVA_SHORT_UNALIGNED, at, (short) value);
            default -> run.set(JAVA_INT_UNALIGNED, at, value);
        }
    }

    private boolean handleMmio() {
        long address = run.get(JAVA_LONG, KvmAbi.RUN_MMIO_PHYS_ADDR);
        int len = run.get(JAVA_INT, KvmAbi.RUN_MMIO_LEN);
        boolean write = run.get(JAVA_BYTE, KvmAbi.RUN_MMIO_IS_WRITE) != 0;
        long data = KvmAbi.RUN_MMIO_DATA;
        try {
            if (write) {
                long value = run.get(JAVA_LONG_UNALIGNED, data);
                if (len < 8) value &= (1L << (len * 8)) - 1;
                if (vm.tracing()) vm.trace(vcpu.index(), String.format("mmio write addr=0x%x len=%d value=0x%x", address, len, value));
                vm.mmio().write(address, len, value);
            } else {
                long value = vm.mmio().read(address, len);
                if (vm.tracing()) vm.trace(vcpu.index(), String.format("mmio read  addr=0x%x len=%d value=0x%x", address, len, value));
                for (int i = 0; i < len && i < KvmAbi.RUN_MMIO_DATA_SIZE; i++) {
                    run.set(JAVA_BYTE, data + i, (byte) (value >>> (8 * i)));
                }
            }
        } catch (RuntimeException e) {
            vm.finish(VmOutcome.vmmError("device at MMIO 0x" + Long.toHexString(address) + " failed: " + e));
            return false;
        }
        return true;
    }

    private void handleSystemEvent() {
        int type = run.get(JAVA_INT, KvmAbi.RUN_SYSTEM_EVENT_TYPE);
        switch (type) {
            case KvmAbi.KVM_SYSTEM_EVENT_SHUTDOWN -> vm.finish(VmOutcome.powerOff("guest powered off (KVM_SYSTEM_EVENT_SHUTDOWN)"));
            case KvmAbi.KVM_SYSTEM_EVENT_RESET -> vm.finish(VmOutcome.powerOff("guest requested a reset (KVM_SYSTEM_EVENT_RESET); jkvm does not reboot"));
            case KvmAbi.KVM_SYSTEM_EVENT_CRASH -> crash(VmOutcome.Kind.GUEST_CRASH, "guest reported a crash (KVM_SYSTEM_EVENT_CRASH)",
                    "event data: " + words(KvmAbi.RUN_SYSTEM_EVENT_NDATA, KvmAbi.RUN_SYSTEM_EVENT_DATA, KvmAbi.RUN_SYSTEM_EVENT_DATA_SIZE));
            default -> vm.finish(VmOutcome.vmmError("vCPU " + vcpu.index() + ": unknown KVM system event " + type));
        }
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

    private void crash(VmOutcome.Kind kind, String what, String detail) {
        String report;
        try {
            report = CrashReport.build(vcpu.index(), what, detail, vcpu.regs(), vcpu.sregs(), vm.memory(), vm.symbolizer());
        } catch (RuntimeException e) {
            report = "vCPU " + vcpu.index() + ": " + what + "\n" + detail + "\n(registers unavailable: " + e + ")\n";
        }
        vm.finish(VmOutcome.crash(kind, "vCPU " + vcpu.index() + ": " + what, report));
    }
}
