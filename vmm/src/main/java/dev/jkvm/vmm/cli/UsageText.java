package dev.jkvm.vmm.cli;

/**
 * What {@code vmm --help} and {@code vmm --version} print on standard output. The help is laid
 * out for 80 columns, as the picocli version of the launcher printed it without a terminal; it
 * is a constant rather than generated from annotations at run time, which cost start-up time
 * on every launch to produce a text that is rarely printed.
 */
final class UsageText {
    private UsageText() {}

    static final String HELP = """
            Usage: vmm [-hV] [--quiet] [--trace-exits] [--accel=kvm|emulated|auto]
                       [--cmdline=TEXT] [--cpus=N] [--kernel=FILE] [--memory=SIZE]
                       [--numa=NODES] [--report=FILE.json] [--serial=stdio|file:PATH]
                       [--timeout=DURATION] [--offline-cpu=INDEX]...
            Boots a multiboot kernel on KVM (or, without /dev/kvm, on a CPU emulated in
            Java) with N vCPUs, COM1, isa-debug-exit, fw_cfg and ACPI tables.
                  --cpus=N              vCPUs (1-%d; default 1)
                  --memory=SIZE         guest RAM, e.g. 256M or 2G (default 256M)
                  --kernel=FILE         multiboot kernel (ELF32, ELF64 or a.out kludge);
                                          default: the built-in image
                  --cmdline=TEXT        kernel command line
                  --serial=stdio|file:PATH
                                        where COM1 output goes (default stdio)
                  --timeout=DURATION    wall-clock limit, e.g. 30s, 500ms, 2m (default:
                                          none)
                  --offline-cpu=INDEX   withhold vCPU INDEX (repeatable): the guest sees it
                                          but it never starts, like a dead AP
                  --numa=NODES          split vCPUs and RAM into NODES equal NUMA nodes,
                                          described in an ACPI SRAT (default: 1, no SRAT)
                  --accel=kvm|emulated|auto
                                        what runs the guest: KVM, the CPU emulated in Java,
                                          or auto = KVM when /dev/kvm is usable, otherwise
                                          emulated (default: auto)
                  --trace-exits         log every I/O and MMIO exit to standard error
                  --report=FILE.json    also write the run summary as JSON
                  --quiet               print no summary at the end
              -h, --help                Show this help message and exit.
              -V, --version             Print version information and exit.

            Exit status:
              0          the guest powered off (ACPI S5)
              (v<<1)|1   the guest wrote v to isa-debug-exit (port 0xF4), as QEMU
              2          bad input (options, kernel file, /dev/kvm, accelerator)
              4          triple fault or guest-reported crash
              6          emulation error or entry failure
              8          VMM error
              124        timeout
              130        stopped
            """.formatted(LauncherOptions.MAX_CPUS);

    /** The jar's Implementation-Version (set by the build), or "development build" from classes. */
    static String version() {
        String v = UsageText.class.getPackage().getImplementationVersion();
        return "jkvm vmm " + (v == null ? "development build" : v) + "\n";
    }
}
