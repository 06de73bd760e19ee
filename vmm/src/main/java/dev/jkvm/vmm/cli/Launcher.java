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

/**
 * The command-line launcher: a thin shell over {@link VirtualMachine}. Its exit status is the
 * guest's (QEMU's isa-debug-exit convention) or one of {@link ExitStatus}'s for everything else.
 * Options: {@link LauncherOptions}; {@code vmm --help}: {@link UsageText}.
 */
public final class Launcher {
    /** The most vCPUs accepted; KVM's own KVM_CAP_MAX_VCPUS may be lower and is checked at creation. */
    static final int MAX_CPUS = LauncherOptions.MAX_CPUS;

    private final PrintStream err;

    private final LauncherOptions options;

    private Launcher(LauncherOptions options, PrintStream err) {
        this.options = options;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.err));
    }

    /** Runs the launcher and returns the exit status; for tests and embedders of the CLI itself. */
    public static int run(String[] args, PrintStream err) {
        LauncherOptions options;
        try {
            options = LauncherOptions.parse(args);
        } catch (OptionError ex) {
            err.println("error: " + oneLine(ex.getMessage()) + " (see vmm --help)");
            return ExitStatus.USAGE;
        }
        // Help before version, as picocli: -hV prints the help.
        if (options.helpRequested || options.versionRequested) {
            System.out.print(options.helpRequested ? UsageText.HELP : UsageText.version());
            System.out.flush();
            return 0;
        }
        try {
            return new Launcher(options, err).call();
        } catch (Exception ex) {
            err.println("error: " + oneLine(describe(ex)));
            return ex instanceof UserError || ex instanceof MultibootException || ex instanceof AcceleratorUnavailableException
                    ? ExitStatus.USAGE : ExitStatus.VMM_ERROR;
        }
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

    private int call() throws Exception {
        int cpus = options.cpus;
        long memory = options.memory;
        Path kernel = options.kernel;
        String cmdline = options.cmdline;
        int numaNodes = options.numaNodes;
        java.util.List<Integer> offlineCpus = options.offlineCpus;
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
        // Options take well under a millisecond to parse, so the warm-up can wait for --accel,
        // and then overlaps with reading and checking the kernel.
        NativeWarmUp.start(options.accel);
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
        SerialTarget serial = options.serial;

        OutputStream console = serial.isStdio() ? System.out : openSerialFile(serial.file());
        try {
            VirtualMachine.Builder builder = VirtualMachine.builder()
                    .cpus(cpus).memory(memory).kernel(image).cmdline(cmdline)
                    .console(console).timeout(options.timeout).traceExits(options.traceExits).numaNodes(numaNodes)
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
                if (!options.quiet) err.print(summary.text());
                if (options.report != null) summary.writeJson(options.report);
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
        if (options.accel == Accelerator.KVM) {
            HostChecks.kvmAccessible(Path.of("/dev/kvm"),
                    new QemuTcgCommand(options.kernel, image, options.cpus, options.memory, options.cmdline));
            return Accelerator.KVM;
        }
        Accelerators.Choice choice = Accelerators.resolve(options.accel);
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
}
