package dev.jkvm.vmm.api;

import dev.jkvm.vmm.cpu.BootCpuState;
import dev.jkvm.vmm.cpu.CpuidTable;
import dev.jkvm.vmm.cpu.MsrSetup;
import dev.jkvm.vmm.cpu.Symbolizer;
import dev.jkvm.vmm.devices.InterruptLines;
import dev.jkvm.vmm.devices.MmioBus;
import dev.jkvm.vmm.devices.PortIoBus;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.memory.GuestRam;
import dev.jkvm.vmm.vcpu.Accelerator;
import dev.jkvm.vmm.vcpu.MachineBackend;
import dev.jkvm.vmm.vcpu.MpState;
import dev.jkvm.vmm.vcpu.Vcpu;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One virtual machine on some accelerator ({@link MachineBackend}): guest RAM, the accelerator's
 * interrupt controllers and vCPUs, the I/O buses and one platform thread per vCPU. Nothing here
 * reads an accelerator's own structures: vCPUs are driven through the {@code vcpu} seam.
 *
 * <p>Lifecycle: {@link #create} sets everything up with vCPUs configured (CPUID, then MSRs —
 * KVM refuses some CR4/EFER bits before CPUID); the caller loads the guest into
 * {@link #memory()} and registers devices; {@link #start} sets the BSP's multiboot registers
 * and starts the threads; the first {@link #finish} decides the outcome and stops every vCPU;
 * {@link #close} joins the threads and releases every fd and mapping.
 */
public final class Vm implements AutoCloseable {
    private final MachineBackend machine;
    private final GuestRam ram;
    private final List<Vcpu> vcpus;
    private final List<VmVcpuLoop> loops = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final PortIoBus pio = new PortIoBus();
    private final MmioBus mmio = new MmioBus();
    private volatile Symbolizer symbolizer = Symbolizer.NONE;
    private final PrintStream trace;
    private final CompletableFuture<VmOutcome> outcome = new CompletableFuture<>();
    private volatile boolean stopping;
    private volatile long startNanos;
    private volatile long finishNanos;
    private boolean closed;

    private Vm(MachineBackend machine, GuestRam ram, List<Vcpu> vcpus, PrintStream trace) {
        this.machine = machine;
        this.ram = ram;
        this.vcpus = vcpus;
        this.trace = trace;
    }

    /**
     * Creates a VM with {@code cpus} vCPUs and {@code memoryBytes} of RAM on KVM.
     *
     * @param trace where to log every exit, or null for no tracing
     */
    public static Vm create(int cpus, long memoryBytes, PrintStream trace) {
        return create(Accelerator.KVM, cpus, memoryBytes, trace);
    }

    /**
     * Creates a VM on {@code accelerator} ({@link Accelerator#AUTO}: KVM when usable, otherwise
     * the emulated CPU) with {@code cpus} vCPUs and {@code memoryBytes} of RAM.
     *
     * @param trace where to log every exit, or null for no tracing
     */
    public static Vm create(Accelerator accelerator, int cpus, long memoryBytes, PrintStream trace) {
        return create(accelerator, cpus, memoryBytes, trace, java.util.Set.of());
    }

    /** As above, with the CPUID bits of {@code hidden} cleared on every vCPU. */
    public static Vm create(Accelerator accelerator, int cpus, long memoryBytes, PrintStream trace,
            java.util.Set<CpuFeature> hidden) {
        return create(accelerator, cpus, memoryBytes, trace, hidden, true);
    }

    /** As above; without {@code pit} the machine has no 8254 PIT (VirtualMachine.Builder#withoutPit). */
    public static Vm create(Accelerator accelerator, int cpus, long memoryBytes, PrintStream trace,
            java.util.Set<CpuFeature> hidden, boolean pit) {
        if (cpus < 1) throw new IllegalArgumentException("at least one vCPU is needed, got " + cpus);
        MachineBackend machine = Accelerators.create(Accelerators.resolve(accelerator).accelerator(), cpus, pit);
        GuestRam ram = null;
        List<Vcpu> vcpus = new ArrayList<>();
        try {
            if (cpus > machine.maxVcpus()) {
                throw new IllegalArgumentException(cpus + " vCPUs requested but the " + machine.name()
                        + " accelerator allows at most " + machine.maxVcpus() + "; use fewer CPUs");
            }
            ram = GuestRam.allocate(memoryBytes);
            machine.mapMemory(ram.memory());
            CpuidTable cpuid = new CpuidTable(machine.supportedCpuid(), cpus);
            Map<Integer, Long> msrs = MsrSetup.initial();
            for (int i = 0; i < cpus; i++) {
                Vcpu vcpu = machine.createVcpu(i);
                vcpus.add(vcpu);
                List<dev.jkvm.vmm.vcpu.CpuidEntry> entries = cpuid.forVcpu(i);
                Map<Integer, Long> vcpuMsrs = msrs;
                if (!hidden.isEmpty()) {
                    vcpuMsrs = new java.util.LinkedHashMap<>(msrs);
                    for (CpuFeature feature : hidden) {
                        entries = entries.stream().map(feature::clearFrom).toList();
                        feature.adjustMsrs(vcpuMsrs, i);
                    }
                }
                vcpu.setCpuid(entries);
                vcpu.setMsrs(vcpuMsrs);
                // Power-on x87/SSE control state (SDM Vol. 3 Table 9-1).
                vcpu.setFpuControl(0x037F, 0x1F80);
                if (i != 0) {
                    // Application processors wait for INIT-SIPI-SIPI from the guest's BSP.
                    vcpu.setMpState(MpState.UNINITIALIZED);
                }
            }
            return new Vm(machine, ram, vcpus, trace);
        } catch (RuntimeException e) {
            for (Vcpu v : vcpus) closeQuietly(v, e);
            if (ram != null) closeQuietly(ram, e);
            closeQuietly(machine, e);
            throw e;
        }
    }

    private static void closeQuietly(AutoCloseable c, Throwable primary) {
        try {
            c.close();
        } catch (Exception suppressed) {
            primary.addSuppressed(suppressed);
        }
    }

    public GuestMemory memory() { return ram.memory(); }
    public PortIoBus pio() { return pio; }
    public MmioBus mmio() { return mmio; }
    public InterruptLines interruptLines() { return machine.interruptLines(); }
    /** Which accelerator runs this VM ("kvm" or "emulated"). */
    public String acceleratorName() { return machine.name(); }
    public Accelerator accelerator() { return machine.accelerator(); }
    public int cpuCount() { return vcpus.size(); }
    public long ramSize() { return ram.size(); }
    Symbolizer symbolizer() { return symbolizer; }
    /** The vCPUs, for tests and for inspection while the VM is stopped. */
    public List<Vcpu> vcpus() { return List.copyOf(vcpus); }

    boolean stopping() { return stopping; }

    private final PauseGate pauseGate = new PauseGate();

    PauseGate pauseGate() { return pauseGate; }

    /**
     * Stops every vCPU outside guest execution and returns once all of them are parked (or the VM ended);
     * the guest stays frozen until {@link #resume}. A wall-clock timeout keeps running meanwhile.
     */
    public void pause() throws InterruptedException {
        pauseGate.requestPause();
        for (VmVcpuLoop l : loops) l.kick();
        pauseGate.awaitParked(this::stopping);
    }

    public void resume() {
        pauseGate.resume();
    }
    boolean tracing() { return trace != null; }

    void trace(int vcpu, String line) {
        trace.println("vcpu" + vcpu + " " + line);
    }

    /**
     * Puts the BSP in the multiboot machine state at {@code entry} and starts every vCPU thread.
     * The VM ends with {@link VmOutcome.Kind#TIMEOUT} after {@code timeout} (null: no limit)
     * unless something ended it before; crash reports name code through {@code symbolizer}.
     */
    public synchronized void start(long entry, long multibootInfo, Duration timeout, Symbolizer symbolizer) {
        start(entry, multibootInfo, timeout, symbolizer, java.util.Set.of());
    }

    /**
     * As {@link #start(long, long, Duration, Symbolizer)}, but the vCPUs in {@code withheld} are
     * never run: they exist (CPUID, MADT entry, LAPIC) yet never answer the guest's INIT-SIPI-SIPI,
     * like a CPU that fails to come up. Lets a kernel's AP-timeout path be tested.
     */
    public synchronized void start(long entry, long multibootInfo, Duration timeout, Symbolizer symbolizer,
                                   java.util.Set<Integer> withheld) {
        if (withheld.contains(0)) throw new IllegalArgumentException("vCPU 0 is the boot CPU; it cannot be withheld");
        if (!threads.isEmpty() || closed) throw new IllegalStateException("a VM starts only once");
        if (symbolizer != null) this.symbolizer = symbolizer;
        Vcpu bsp = vcpus.get(0);
        bsp.setSregs(BootCpuState.sregs(bsp.sregs()));
        bsp.setRegs(BootCpuState.regs(entry, multibootInfo));
        for (Vcpu v : vcpus) {
            VmVcpuLoop loop = new VmVcpuLoop(this, v);
            loops.add(loop);
            if (!withheld.contains(v.index())) {
                threads.add(Thread.ofPlatform().name("vcpu-" + v.index()).daemon(true).unstarted(loop));
            }
        }
        startNanos = System.nanoTime();
        outcome.whenComplete((o, e) -> stopAll());
        if (timeout != null) {
            outcome.completeOnTimeout(VmOutcome.timeout("wall-clock limit of " + humanDuration(timeout) + " reached"),
                    timeout.toNanos(), TimeUnit.NANOSECONDS);
        }
        for (Thread t : threads) t.start();
    }

    /** "1s", "1.5s", "500ms": how a user wrote it on the command line, not ISO-8601. */
    static String humanDuration(Duration d) {
        long ms = d.toMillis();
        if (ms % 1000 != 0) return ms < 1000 ? ms + "ms" : (ms / 1000.0) + "s";
        return (ms / 1000) + "s";
    }

    /** Ends the run with {@code o} unless it already ended; returns whether {@code o} won. */
    public boolean finish(VmOutcome o) {
        if (finishNanos == 0) finishNanos = System.nanoTime();
        return outcome.complete(o);
    }

    public CompletableFuture<VmOutcome> outcome() { return outcome; }

    private void stopAll() {
        if (finishNanos == 0) finishNanos = System.nanoTime();
        stopping = true;
        for (VmVcpuLoop l : loops) l.kick();
    }

    public VmStats stats(long firstSerialByteNanos) {
        List<Map<String, Long>> perVcpu = new ArrayList<>();
        for (VmVcpuLoop l : loops) {
            perVcpu.add(l.exitCounts());
        }
        long start = startNanos;
        long end = finishNanos;
        Duration toSerial = firstSerialByteNanos < 0 || start == 0 ? null : Duration.ofNanos(firstSerialByteNanos - start);
        Duration toExit = end == 0 || start == 0 ? null : Duration.ofNanos(end - start);
        return new VmStats(perVcpu, toSerial, toExit, pio.unknownReads(), pio.unknownWrites(),
                mmio.unknownReads(), mmio.unknownWrites(), machine.name(), machine.notes());
    }

    /** Stops the run (if still going), joins every vCPU thread, closes every fd and unmaps RAM. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        finish(VmOutcome.stopped("VM closed"));
        stopAll();
        boolean interrupted = false;
        for (Thread t : threads) {
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        RuntimeException failure = null;
        for (AutoCloseable c : resourcesInCloseOrder()) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) failure = e instanceof RuntimeException r ? r : new IllegalStateException(e);
                else failure.addSuppressed(e);
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        if (failure != null) throw failure;
    }

    private List<AutoCloseable> resourcesInCloseOrder() {
        List<AutoCloseable> all = new ArrayList<>(vcpus);
        all.add(machine);
        all.add(ram);
        return all;
    }
}
