package dev.jkvm.vmm.api;

import dev.jkvm.vmm.acpi.AcpiConfig;
import dev.jkvm.vmm.acpi.AcpiPmDevice;
import dev.jkvm.vmm.acpi.AcpiPmPorts;
import dev.jkvm.vmm.acpi.AcpiTables;
import dev.jkvm.vmm.acpi.NumaLayout;
import dev.jkvm.vmm.boot.BootInfo;
import dev.jkvm.vmm.boot.KernelFile;
import dev.jkvm.vmm.boot.MultibootLoader;
import dev.jkvm.vmm.cpu.Symbolizer;
import dev.jkvm.vmm.devices.LegacyDevices;
import dev.jkvm.vmm.devices.MmioDevice;
import dev.jkvm.vmm.devices.PioDevice;
import dev.jkvm.vmm.vcpu.Accelerator;

import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A VM description that can be started any number of times; each {@link #start()} creates a
 * fresh VM on the chosen accelerator (KVM, the emulated CPU, or — the default — KVM when
 * /dev/kvm is usable and the emulated CPU otherwise).
 *
 * <pre>{@code
 * try (RunningVm run = VirtualMachine.builder().cpus(2).memory(256 << 20).accelerator(Accelerator.AUTO)
 *         .kernel(Path.of("kernel.elf")).console(System.out).timeout(Duration.ofSeconds(30))
 *         .build().start()) {
 *     VmOutcome outcome = run.await();
 * }
 * }</pre>
 */
public final class VirtualMachine {
    /** The smallest RAM that holds the boot area, a kernel at 1 MiB and its stack. */
    public static final long MIN_MEMORY = 2L << 20;

    record PioRegistration(int base, int length, PioDevice device) {}

    record MmioRegistration(long base, long length, MmioDevice device) {}

    private final int cpus;
    private final long memory;
    private final byte[] kernel;
    private final String cmdline;
    private final OutputStream console;
    private final List<PioRegistration> pio;
    private final List<MmioRegistration> mmio;
    private final Duration timeout;
    private final boolean traceExits;
    private final Symbolizer symbolizer;
    private final java.util.Set<Integer> offlineCpus;
    private final int numaNodes;
    private final java.util.Map<String, byte[]> fwCfgFiles;
    private final Accelerator accelerator;
    private final java.util.Set<CpuFeature> hiddenFeatures;
    private final boolean pit;

    private VirtualMachine(Builder b) {
        this.cpus = b.cpus;
        this.memory = b.memory;
        this.kernel = b.kernel;
        this.cmdline = b.cmdline;
        this.console = b.console;
        this.pio = List.copyOf(b.pio);
        this.mmio = List.copyOf(b.mmio);
        this.timeout = b.timeout;
        this.traceExits = b.traceExits;
        this.symbolizer = b.symbolizer;
        this.offlineCpus = java.util.Set.copyOf(b.offlineCpus);
        this.numaNodes = b.numaNodes;
        this.fwCfgFiles = new java.util.LinkedHashMap<>(b.fwCfgFiles);
        this.accelerator = b.accelerator;
        this.hiddenFeatures = java.util.Set.copyOf(b.hiddenFeatures);
        this.pit = b.pit;
    }

    public static Builder builder() { return new Builder(); }

    public int cpus() { return cpus; }
    public long memory() { return memory; }
    public String cmdline() { return cmdline; }
    /** The accelerator asked for; {@link Accelerator#AUTO} is resolved at each {@link #start()}. */
    public Accelerator accelerator() { return accelerator; }

    /**
     * Creates the VM on the chosen accelerator, installs the platform — COM1, isa-debug-exit, fw_cfg, RTC/CMOS, the
     * ACPI PM block and reset port, ACPI tables at 0xE0000 — then the embedder's devices, loads
     * the kernel through the multiboot loader and starts every vCPU.
     *
     * @throws dev.jkvm.vmm.boot.MultibootException for an image that can not be booted (one clear line)
     * @throws dev.jkvm.vmm.kvm.KvmException when KVM refuses the configuration
     * @throws AcceleratorUnavailableException when the chosen accelerator cannot run here
     */
    public RunningVm start() {
        for (int index : offlineCpus) {
            if (index >= cpus) {
                throw new IllegalArgumentException("vCPU " + index + " cannot be withheld: the VM has vCPUs 0 to " + (cpus - 1));
            }
        }
        Vm vm = Vm.create(accelerator, cpus, memory, traceExits ? System.err : null, hiddenFeatures, pit);
        try {
            LegacyDevices legacy = LegacyDevices.install(vm.pio(), vm.interruptLines(), console,
                    status -> vm.finish(VmOutcome.guestExit(status)), cpus, vm.ramSize(), Clock.systemUTC());
            for (var file : fwCfgFiles.entrySet()) legacy.fwCfg().addFile(file.getKey(), file.getValue());
            AcpiPmDevice pm = new AcpiPmDevice(
                    () -> vm.finish(VmOutcome.powerOff("guest powered off through ACPI (S5)")),
                    () -> vm.finish(VmOutcome.powerOff("guest requested a reset through port 0xCF9; jkvm does not reboot")));
            vm.pio().register(AcpiPmPorts.PM_BASE, AcpiPmPorts.PM_LENGTH, pm);
            vm.pio().register(AcpiPmPorts.RESET_PORT, 1, pm);
            AcpiConfig acpi = AcpiConfig.forCpus(cpus);
            if (numaNodes > 1) acpi = acpi.withNumaNodes(NumaLayout.split(numaNodes, cpus, vm.memory()));
            AcpiTables.install(vm.memory(), acpi);
            for (PioRegistration r : pio) vm.pio().register(r.base(), r.length(), r.device());
            for (MmioRegistration r : mmio) vm.mmio().register(r.base(), r.length(), r.device());
            BootInfo boot = MultibootLoader.load(kernel, vm.memory(), cmdline);
            Symbolizer symbols = symbolizer;
            if (symbols == null && !boot.symbols().isEmpty()) symbols = boot.symbols()::symbolize;
            vm.start(boot.entry(), boot.mbiAddress(), timeout, symbols, offlineCpus);
            return new RunningVm(vm, legacy.serial());
        } catch (RuntimeException e) {
            try {
                vm.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    public static final class Builder {
        private int cpus = 1;
        private long memory = 128L << 20;
        private byte[] kernel;
        private String cmdline = "";
        private OutputStream console = OutputStream.nullOutputStream();
        private final List<PioRegistration> pio = new ArrayList<>();
        private final List<MmioRegistration> mmio = new ArrayList<>();
        private Duration timeout;
        private boolean traceExits;
        private Symbolizer symbolizer;
        private final java.util.Set<Integer> offlineCpus = new java.util.TreeSet<>();
        private int numaNodes = 1;
        private final java.util.Map<String, byte[]> fwCfgFiles = new java.util.LinkedHashMap<>();
        private Accelerator accelerator = Accelerator.AUTO;
        private final java.util.Set<CpuFeature> hiddenFeatures = java.util.EnumSet.noneOf(CpuFeature.class);
        private boolean pit = true;

        private Builder() {}

        /**
         * Leaves out the 8254 PIT (for testing a guest's timer checks, as QEMU's {@code -M ...,pit=off}):
         * on KVM no in-kernel PIT is created, on the emulated CPU none is wired; ports 0x40-0x43 and
         * 0x61 then have no device (reads return all ones, writes are dropped).
         */
        public Builder withoutPit() {
            this.pit = false;
            return this;
        }

        /** Clears the feature's CPUID bit on every vCPU (for testing a guest's hardware checks). */
        public Builder withoutCpuFeature(CpuFeature feature) {
            hiddenFeatures.add(java.util.Objects.requireNonNull(feature, "feature"));
            return this;
        }

        /**
         * What runs the guest: {@link Accelerator#KVM}, {@link Accelerator#EMULATED} (the CPU
         * emulated in Java, on any host) or {@link Accelerator#AUTO} (the default: KVM when
         * /dev/kvm opens and creates a VM, otherwise emulated).
         */
        public Builder accelerator(Accelerator a) {
            this.accelerator = java.util.Objects.requireNonNull(a, "accelerator");
            return this;
        }

        public Builder cpus(int n) {
            if (n < 1) throw new IllegalArgumentException("cpus must be at least 1, got " + n);
            this.cpus = n;
            return this;
        }

        public Builder memory(long bytes) {
            if (bytes < MIN_MEMORY) {
                throw new IllegalArgumentException("memory must be at least " + (MIN_MEMORY >> 20) + " MiB, got " + bytes + " bytes");
            }
            this.memory = bytes;
            return this;
        }

        /**
         * A multiboot kernel image file; only a regular file is read (see {@link KernelFile}).
         *
         * @throws dev.jkvm.vmm.boot.MultibootException when it is not a readable regular file
         */
        public Builder kernel(Path image) {
            return kernel(KernelFile.read(image, KernelFile.MAX_BYTES));
        }

        /** A multiboot kernel image. */
        public Builder kernel(byte[] image) {
            this.kernel = image.clone();
            return this;
        }

        public Builder cmdline(String cmdline) {
            this.cmdline = cmdline == null ? "" : cmdline;
            return this;
        }

        /** Where the guest's COM1 output goes. */
        public Builder console(OutputStream out) {
            this.console = out;
            return this;
        }

        public Builder pio(int base, int length, PioDevice device) {
            pio.add(new PioRegistration(base, length, device));
            return this;
        }

        public Builder mmio(long base, long length, MmioDevice device) {
            mmio.add(new MmioRegistration(base, length, device));
            return this;
        }

        /** Wall-clock limit; the VM ends with {@link VmOutcome.Kind#TIMEOUT} when it passes. */
        public Builder timeout(Duration limit) {
            this.timeout = limit;
            return this;
        }

        /** Logs every I/O and MMIO exit to standard error. */
        public Builder traceExits(boolean on) {
            this.traceExits = on;
            return this;
        }

        /**
         * Withholds vCPU {@code index}: it is described to the guest (CPUID, MADT) but never runs,
         * so it never answers INIT-SIPI-SIPI. For testing a kernel's handling of a dead AP.
         */
        public Builder offlineCpu(int index) {
            if (index < 1) throw new IllegalArgumentException("vCPU " + index + " cannot be withheld: vCPU 0 is the boot CPU");
            offlineCpus.add(index);
            return this;
        }

        /**
         * Splits vCPUs and RAM into {@code nodes} equal NUMA nodes, described to the guest in an
         * SRAT (needs all RAM below the 3 GiB hole). 1, the default, means no SRAT.
         */
        public Builder numaNodes(int nodes) {
            if (nodes < 1) throw new IllegalArgumentException("NUMA node count must be at least 1, got " + nodes);
            this.numaNodes = nodes;
            return this;
        }

        /** A file the guest finds in the fw_cfg directory (QEMU docs/specs/fw_cfg.rst), e.g. "opt/app/config". */
        public Builder fwCfgFile(String name, byte[] contents) {
            fwCfgFiles.put(name, contents.clone());
            return this;
        }

        public Builder symbolizer(Symbolizer s) {
            this.symbolizer = s;
            return this;
        }

        public VirtualMachine build() {
            if (kernel == null) throw new IllegalArgumentException("no kernel given; call kernel(path)");
            // Reject an unbootable image now, with the loader's one-line reason, not at start():
            // the same verdict, from the same pure check, as the launcher's.
            MultibootLoader.check("kernel image", kernel, memory);
            return new VirtualMachine(this);
        }
    }
}
