package dev.jkvm.vmm.cli;

import dev.jkvm.vmm.api.AcceleratorUnavailableException;
import dev.jkvm.vmm.api.Accelerators;
import dev.jkvm.vmm.api.ExitStatus;
import dev.jkvm.vmm.api.RunningVm;
import dev.jkvm.vmm.api.VirtualMachine;
import dev.jkvm.vmm.api.VmOutcome;
import dev.jkvm.vmm.boot.KernelFile;
import dev.jkvm.vmm.boot.MultibootException;
import dev.jkvm.vmm.boot.MultibootInfo;
import dev.jkvm.vmm.boot.MultibootLoader;
import dev.jkvm.vmm.kvm.KvmException;
import dev.jkvm.vmm.vcpu.Accelerator;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The command-line launcher: a thin shell over {@link VirtualMachine}. Its exit status is the
 * guest's (QEMU's isa-debug-exit convention) or one of {@link ExitStatus}'s for everything else.
 */
@Command(name = "vmm", mixinStandardHelpOptions = true, versionProvider = Launcher.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Boots a multiboot kernel on KVM (or, without /dev/kvm, on a CPU emulated in Java) with N vCPUs, COM1,"
                + " isa-debug-exit, fw_cfg and ACPI tables.",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
                "0:the guest powered off (ACPI S5)",
                "(v<<1)|1:the guest wrote v to isa-debug-exit (port 0xF4), as QEMU",
                "2:bad input (options, kernel file, /dev/kvm, accelerator)",
                "4:triple fault or guest-reported crash",
                "6:emulation error or entry failure",
                "8:VMM error",
                "124:timeout",
                "130:stopped"})
public final class Launcher implements Callable<Integer> {
    /** The most vCPUs accepted; KVM's own KVM_CAP_MAX_VCPUS may be lower and is checked at creation. */
    static final int MAX_CPUS = 1024;

    @Option(names = "--cpus", paramLabel = "N", description = "vCPUs (1-" + MAX_CPUS + "; default ${DEFAULT-VALUE})", defaultValue = "1")
    int cpus;

    @Option(names = "--memory", paramLabel = "SIZE", description = "guest RAM, e.g. 256M or 2G (default ${DEFAULT-VALUE})",
            defaultValue = "256M", converter = ByteSizeConverter.class)
    long memory;

    @Option(names = "--kernel", paramLabel = "FILE", description = "multiboot kernel (ELF32, ELF64 or a.out kludge); default: the built-in image")
    Path kernel;

    @Option(names = "--cmdline", paramLabel = "TEXT", description = "kernel command line", defaultValue = "")
    String cmdline;

    @Option(names = "--serial", paramLabel = "stdio|file:PATH", description = "where COM1 output goes (default ${DEFAULT-VALUE})",
            defaultValue = "stdio", converter = SerialTarget.Converter.class)
    SerialTarget serial;

    @Option(names = "--timeout", paramLabel = "DURATION", description = "wall-clock limit, e.g. 30s, 500ms, 2m (default: none)",
            converter = DurationConverter.class)
    Duration timeout;

    @Option(names = "--offline-cpu", paramLabel = "INDEX",
            description = "withhold vCPU INDEX (repeatable): the guest sees it but it never starts, like a dead AP")
    java.util.List<Integer> offlineCpus = new java.util.ArrayList<>();

    @Option(names = "--numa", paramLabel = "NODES", defaultValue = "1",
            description = "split vCPUs and RAM into NODES equal NUMA nodes, described in an ACPI SRAT (default: ${DEFAULT-VALUE}, no SRAT)")
    int numaNodes;

    @Option(names = "--accel", paramLabel = "kvm|emulated|auto", defaultValue = "auto", converter = AcceleratorConverter.class,
            description = "what runs the guest: KVM, the CPU emulated in Java, or auto = KVM when /dev/kvm is usable,"
                    + " otherwise emulated (default: ${DEFAULT-VALUE})")
    Accelerator accel;

    @Option(names = "--trace-exits", description = "log every I/O and MMIO exit to standard error")
    boolean traceExits;

    @Option(names = "--report", paramLabel = "FILE.json", description = "also write the run summary as JSON")
    Path report;

    @Option(names = "--quiet", description = "print no summary at the end")
    boolean quiet;

    private final PrintStream err;

    public Launcher() {
        this(System.err);
    }

    Launcher(PrintStream err) {
        this.err = err;
    }

    public static void main(String[] args) {
        NativeWarmUp.start();
        System.exit(run(args, System.err));
    }

    /** Runs the launcher and returns the exit status; for tests and embedders of the CLI itself. */
    public static int run(String[] args, PrintStream err) {
        CommandLine cli = new CommandLine(new Launcher(err));
        cli.setParameterExceptionHandler((ex, a) -> {
            err.println("error: " + oneLine(ex.getMessage()) + " (see vmm --help)");
            return ExitStatus.USAGE;
        });
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            err.println("error: " + oneLine(describe(ex)));
            return ex instanceof UserError || ex instanceof MultibootException || ex instanceof AcceleratorUnavailableException
                    ? ExitStatus.USAGE : ExitStatus.VMM_ERROR;
        });
        return cli.execute(args);
    }

    /**
     * The message with control characters written as escapes: messages quote what the user
     * typed (option values, file names), and a newline in those must not split the one line.
     */
    static String oneLine(String message) {
        if (message == null) return "(no message)";
        StringBuilder b = new StringBuilder(message.length());
        for (int i = 0; i < message.length(); i++) {
            char c = message.charAt(i);
            if (c == '\n') b.append("\\n");
            else if (c == '\r') b.append("\\r");
            else if (c == '\t') b.append("\\t");
            else if (c < 0x20 || (c >= 0x7F && c <= 0x9F) || Character.getType(c) == Character.LINE_SEPARATOR
                    || Character.getType(c) == Character.PARAGRAPH_SEPARATOR) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.toString();
    }

    private static String describe(Throwable e) {
        if (e instanceof UserError || e instanceof MultibootException || e instanceof KvmException
                || e instanceof AcceleratorUnavailableException) return e.getMessage();
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    @Override
    public Integer call() throws Exception {
        if (cpus < 1 || cpus > MAX_CPUS) {
            throw new UserError("--cpus " + cpus + " is out of range; give 1 to " + MAX_CPUS);
        }
        if (memory < VirtualMachine.MIN_MEMORY) {
            throw new UserError("--memory " + memory + " bytes is too small; give at least " + (VirtualMachine.MIN_MEMORY >> 20) + "M");
        }
        for (int index : offlineCpus) {
            if (index < 1 || index >= cpus) {
                throw new UserError("--offline-cpu " + index + " is not an AP of this VM; give 1 to " + (cpus - 1) + " (vCPU 0 boots)");
            }
        }
        if (numaNodes < 1 || numaNodes > cpus) {
            throw new UserError("--numa " + numaNodes + " does not fit " + cpus + " vCPUs; give 1 to " + cpus + " nodes");
        }
        if (numaNodes > 1 && memory > dev.jkvm.vmm.memory.GuestLayout.MMIO_HOLE_START) {
            throw new UserError("--numa needs all RAM below the 3 GiB hole; give --memory 3G or less");
        }
        long hostMemory = HostChecks.hostMemory();
        if (memory > hostMemory) {
            throw new UserError("--memory " + (memory >> 20) + "M is more than this host's " + (hostMemory >> 20)
                    + "M of RAM; give less");
        }
        // The whole verdict on the kernel (file type and size, ELF tables, placement in this much
        // RAM) comes before any accelerator is touched, so it is the same on every host.
        byte[] image = kernel != null ? KernelFile.read(kernel, memory) : DefaultImage.bytes();
        MultibootLoader.check(kernel != null ? kernel.toString() : "the built-in image", image, memory);
        MultibootInfo.checkCommandLine(cmdline);
        Accelerator accelerator = chooseAccelerator(image);

        OutputStream console = serial.isStdio() ? System.out : openSerialFile(serial.file());
        try {
            VirtualMachine.Builder builder = VirtualMachine.builder()
                    .cpus(cpus).memory(memory).kernel(image).cmdline(cmdline)
                    .console(console).timeout(timeout).traceExits(traceExits).numaNodes(numaNodes)
                    .accelerator(accelerator);
            for (int index : offlineCpus) builder.offlineCpu(index);
            VirtualMachine machine = builder.build();
            try (RunningVm run = machine.start()) {
                Thread stopOnSignal = new Thread(run::stop, "vmm-shutdown");
                Runtime.getRuntime().addShutdownHook(stopOnSignal);
                VmOutcome outcome;
                try {
                    outcome = run.await();
                } finally {
                    removeHook(stopOnSignal);
                }
                console.flush();
                RunSummary summary = new RunSummary(cpus, memory, outcome, run.stats());
                if (!quiet) err.print(summary.text());
                if (report != null) summary.writeJson(report);
                if (!outcome.crashReport().isEmpty()) err.print(outcome.crashReport());
                if (outcome.kind() != VmOutcome.Kind.GUEST_EXIT && outcome.kind() != VmOutcome.Kind.POWER_OFF) {
                    err.println("error: " + outcome.cause());
                }
                return outcome.exitStatus();
            }
        } finally {
            if (!serial.isStdio()) console.close();
        }
    }

    /**
     * Resolves --accel: kvm needs /dev/kvm (today's one-line error when it is missing); auto takes
     * KVM when /dev/kvm opens and creates a VM, otherwise the emulated CPU, saying so on one line.
     */
    private Accelerator chooseAccelerator(byte[] image) {
        if (accel == Accelerator.KVM) {
            HostChecks.kvmAccessible(Path.of("/dev/kvm"), new QemuTcgCommand(kernel, image, cpus, memory, cmdline));
            return Accelerator.KVM;
        }
        Accelerators.Choice choice = Accelerators.resolve(accel);
        if (choice.fallbackReason() != null) {
            err.println("jkvm: KVM is not usable (" + choice.fallbackReason() + "); running on the emulated CPU (--accel emulated)");
        }
        return choice.accelerator();
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // The JVM is already exiting because of a signal; the hook has run or is running.
        }
    }

    private static OutputStream openSerialFile(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null && !Files.isDirectory(parent)) {
                throw new UserError("directory " + parent + " for --serial file does not exist; create it or choose another path");
            }
            return new BufferedOutputStream(Files.newOutputStream(file));
        } catch (IOException e) {
            throw new UserError("cannot write serial output to " + file + " (" + e.getClass().getSimpleName() + "); choose a writable path");
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Launcher.class.getPackage().getImplementationVersion();
            return new String[] {"jkvm vmm " + (v == null ? "development build" : v)};
        }
    }
}
