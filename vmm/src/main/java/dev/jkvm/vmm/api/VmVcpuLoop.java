package dev.jkvm.vmm.api;

import dev.jkvm.vmm.cpu.CrashReport;
import dev.jkvm.vmm.vcpu.Vcpu;
import dev.jkvm.vmm.vcpu.VcpuExit;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The body of one vCPU thread: run the vCPU, dispatch its exit, repeat until the VM stops (the
 * shape of Firecracker's run loop over {@code VcpuExit}). Guest accesses never end the VMM:
 * unknown ports and MMIO addresses are absorbed by the buses; only states the guest cannot
 * continue from (triple fault, emulation or entry failure, a system event, a device model
 * failure) end the VM with an outcome.
 */
final class VmVcpuLoop implements Runnable {
    private final Vm vm;
    private final Vcpu vcpu;
    /** Exit counts by {@link VcpuExit#kind()}, in first-seen order. */
    private final Map<String, LongAdder> exits = new ConcurrentHashMap<>();

    VmVcpuLoop(Vm vm, Vcpu vcpu) {
        this.vm = vm;
        this.vcpu = vcpu;
    }

    int index() { return vcpu.index(); }

    /** Exit counts by kind ("io", "mmio", ...), a snapshot. */
    Map<String, Long> exitCounts() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (Map.Entry<String, LongAdder> e : new java.util.TreeMap<>(exits).entrySet()) {
            long n = e.getValue().sum();
            if (n != 0) m.put(e.getKey(), n);
        }
        return m;
    }

    /** Makes the vCPU leave guest execution; callers set the VM's flags first, so the loop sees them. */
    void kick() {
        vcpu.kick();
    }

    @Override
    public void run() {
        vm.pauseGate().enter();
        try {
            vcpu.bindToCurrentThread();
            while (!vm.stopping()) {
                VcpuExit exit = vcpu.run();
                exits.computeIfAbsent(exit.kind(), k -> new LongAdder()).increment();
                if (!handleExit(exit)) break;
            }
        } catch (RuntimeException | Error e) {
            vm.finish(VmOutcome.vmmError("vCPU " + vcpu.index() + ": " + e));
        } finally {
            vm.pauseGate().leave();
            try {
                vcpu.unbindFromCurrentThread();
            } catch (RuntimeException e) {
                vm.finish(VmOutcome.vmmError("vCPU " + vcpu.index() + ": " + e));
            }
        }
    }

    /** Returns false when this vCPU can not continue. */
    private boolean handleExit(VcpuExit exit) {
        switch (exit) {
            case VcpuExit.Interrupted i -> {
                if (vm.pauseGate().pauseRequested()) vm.pauseGate().park(vm::stopping);
                return true;
            }
            case VcpuExit.PortIn in -> {
                return handlePortIn(in);
            }
            case VcpuExit.PortOut out -> {
                return handlePortOut(out);
            }
            case VcpuExit.MmioRead r -> {
                return handleMmioRead(r);
            }
            case VcpuExit.MmioWrite w -> {
                return handleMmioWrite(w);
            }
            case VcpuExit.Shutdown s -> {
                crash(VmOutcome.Kind.TRIPLE_FAULT, s.what(), "");
                return false;
            }
            case VcpuExit.InternalError e -> {
                crash(VmOutcome.Kind.EMULATION_ERROR, e.what(), e.detail());
                return false;
            }
            case VcpuExit.EntryFailure f -> {
                crash(VmOutcome.Kind.ENTRY_FAILURE, f.what(), "");
                return false;
            }
            case VcpuExit.SystemEvent e -> {
                switch (e.type()) {
                    case SHUTDOWN -> vm.finish(VmOutcome.powerOff(e.what()));
                    case RESET -> vm.finish(VmOutcome.powerOff(e.what() + "; jkvm does not reboot"));
                    case CRASH -> crash(VmOutcome.Kind.GUEST_CRASH, e.what(), e.detail());
                    case OTHER -> vm.finish(VmOutcome.vmmError("vCPU " + vcpu.index() + ": " + e.what()));
                }
                return false;
            }
            case VcpuExit.Halt h -> {
                vm.finish(VmOutcome.vmmError("vCPU " + vcpu.index() + " exited on HLT, which the " + vm.acceleratorName()
                        + " accelerator's LAPIC should have handled"));
                return false;
            }
        }
    }

    /** Port input: {@code count} items of {@code size} bytes (string I/O repeats the port). */
    private boolean handlePortIn(VcpuExit.PortIn in) {
        try {
            for (int i = 0; i < in.count(); i++) {
                int value = vm.pio().read(in.port(), in.size());
                if (vm.tracing()) vm.trace(vcpu.index(), String.format("in  port=0x%x size=%d value=0x%x", in.port(), in.size(), value));
                in.data().set(i, value);
            }
            return true;
        } catch (RuntimeException e) {
            vm.finish(VmOutcome.vmmError("device at port 0x" + Integer.toHexString(in.port()) + " failed: " + e));
            return false;
        }
    }

    private boolean handlePortOut(VcpuExit.PortOut out) {
        try {
            for (int i = 0; i < out.count(); i++) {
                int value = out.data().get(i);
                if (vm.tracing()) vm.trace(vcpu.index(), String.format("out port=0x%x size=%d value=0x%x", out.port(), out.size(), value));
                vm.pio().write(out.port(), out.size(), value);
            }
            return true;
        } catch (RuntimeException e) {
            vm.finish(VmOutcome.vmmError("device at port 0x" + Integer.toHexString(out.port()) + " failed: " + e));
            return false;
        }
    }

    private boolean handleMmioRead(VcpuExit.MmioRead r) {
        try {
            long value = vm.mmio().read(r.address(), r.length());
            if (vm.tracing()) vm.trace(vcpu.index(), String.format("mmio read  addr=0x%x len=%d value=0x%x", r.address(), r.length(), value));
            r.data().set(value);
            return true;
        } catch (RuntimeException e) {
            vm.finish(VmOutcome.vmmError("device at MMIO 0x" + Long.toHexString(r.address()) + " failed: " + e));
            return false;
        }
    }

    private boolean handleMmioWrite(VcpuExit.MmioWrite w) {
        try {
            if (vm.tracing()) vm.trace(vcpu.index(), String.format("mmio write addr=0x%x len=%d value=0x%x", w.address(), w.length(), w.value()));
            vm.mmio().write(w.address(), w.length(), w.value());
            return true;
        } catch (RuntimeException e) {
            vm.finish(VmOutcome.vmmError("device at MMIO 0x" + Long.toHexString(w.address()) + " failed: " + e));
            return false;
        }
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
