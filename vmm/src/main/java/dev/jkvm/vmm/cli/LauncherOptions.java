package dev.jkvm.vmm.cli;

import dev.jkvm.vmm.vcpu.Accelerator;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The launcher's command line, parsed by hand: a dozen options do not need a reflective
 * command-line framework, and the one the launcher used (picocli, Java 5 class files) could not be
 * stored in the JDK's AOT cache, so parsing the options took most of the launcher's own start-up
 * time. The syntax and the error messages are the ones picocli gave this launcher:
 * {@code --name VALUE} or {@code --name=VALUE}; flags take no value or {@code =true}/{@code =false};
 * every option but {@code --offline-cpu} at most once; {@code -h}/{@code -V} may be clustered
 * ({@code -hV}); {@code --} ends the options; the launcher takes no positional arguments.
 * Values are checked here only for their form; ranges are checked by the launcher.
 */
final class LauncherOptions {
    /** The most vCPUs accepted; KVM's own KVM_CAP_MAX_VCPUS may be lower and is checked at creation. */
    static final int MAX_CPUS = 1024;

    int cpus = 1;
    long memory = 256L << 20;
    Path kernel;
    String cmdline = "";
    SerialTarget serial = SerialTarget.STDIO;
    Duration timeout;
    final List<Integer> offlineCpus = new ArrayList<>();
    int numaNodes = 1;
    Accelerator accel = Accelerator.AUTO;
    boolean traceExits;
    Path report;
    boolean quiet;
    boolean helpRequested;
    boolean versionRequested;

    /** The options, in the order of the help text; the label names the value in messages. */
    private enum Name {
        CPUS("--cpus", "N"), MEMORY("--memory", "SIZE"), KERNEL("--kernel", "FILE"), CMDLINE("--cmdline", "TEXT"),
        SERIAL("--serial", "stdio|file:PATH"), TIMEOUT("--timeout", "DURATION"), OFFLINE_CPU("--offline-cpu", "INDEX"),
        NUMA("--numa", "NODES"), ACCEL("--accel", "kvm|emulated|auto"), TRACE_EXITS("--trace-exits", null),
        REPORT("--report", "FILE.json"), QUIET("--quiet", null), HELP("--help", null), VERSION("--version", null);

        final String text;
        /** null for a flag, which takes no value. */
        final String label;

        Name(String text, String label) {
            this.text = text;
            this.label = label;
        }

        static Name of(String text) {
            for (Name n : values()) if (n.text.equals(text)) return n;
            return null;
        }
    }

    private final boolean[] seen = new boolean[Name.values().length];

    /**
     * Parses {@code args}. Errors in an option or its value are thrown at once; arguments that
     * are no option are collected and reported at the end, unless help or version was asked for.
     *
     * @throws OptionError naming the argument at fault
     */
    static LauncherOptions parse(String[] args) {
        LauncherOptions o = new LauncherOptions();
        List<String> unmatched = new ArrayList<>();
        int firstUnmatched = -1;
        boolean endOfOptions = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            Name name = null;
            String attached = null;
            if (!endOfOptions) {
                if (arg.equals("--")) {
                    endOfOptions = true;
                    continue;
                }
                if (arg.startsWith("--")) {
                    int eq = arg.indexOf('=');
                    name = Name.of(eq < 0 ? arg : arg.substring(0, eq));
                    if (name != null && eq >= 0) attached = arg.substring(eq + 1);
                } else if (arg.length() > 1 && (arg.charAt(0) == '-') && (arg.charAt(1) == 'h' || arg.charAt(1) == 'V')) {
                    // A cluster of the short options -h and -V, e.g. -hV; what follows another
                    // character is not an option, as with picocli.
                    if (!o.shortCluster(arg)) {
                        if (firstUnmatched < 0) firstUnmatched = i;
                        unmatched.add(arg);
                    }
                    continue;
                }
            }
            if (name == null) {
                // Unknown options and arguments (the launcher takes none) are reported together
                // at the end, e.g. "Unknown options: '--cpu', '2'".
                if (firstUnmatched < 0) firstUnmatched = i;
                unmatched.add(arg);
                continue;
            }
            if (name.label == null) {
                o.flag(name, attached == null || parseBoolean(name, attached));
                continue;
            }
            String value = attached;
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new OptionError("Missing required parameter for option '" + name.text + "' (" + name.label + ")");
                }
                value = args[++i];
            }
            if (isOptionName(value)) {
                throw new OptionError("Expected parameter for option '" + name.text + "' but found '" + value + "'");
            }
            o.set(name, value);
        }
        if (!unmatched.isEmpty() && !o.helpRequested && !o.versionRequested) {
            throw new OptionError(describeUnmatched(unmatched, firstUnmatched));
        }
        return o;
    }

    /** -h, -V and clusters of them; false when the cluster goes on with something else. */
    private boolean shortCluster(String arg) {
        for (int k = 1; k < arg.length(); k++) {
            char c = arg.charAt(k);
            if (c == 'h') flag(Name.HELP, true);
            else if (c == 'V') flag(Name.VERSION, true);
            else return false;
        }
        return true;
    }

    private void once(Name name) {
        if (seen[name.ordinal()] && name != Name.OFFLINE_CPU) {
            throw new OptionError("option '" + name.text + "'" + (name.label == null ? "" : " (" + name.label + ")")
                    + " should be specified only once");
        }
        seen[name.ordinal()] = true;
    }

    private void flag(Name name, boolean on) {
        once(name);
        switch (name) {
            case TRACE_EXITS -> traceExits = on;
            case QUIET -> quiet = on;
            // Picocli took --help=false and --version=false as requests too.
            case HELP -> helpRequested = true;
            case VERSION -> versionRequested = true;
            default -> throw new IllegalStateException(name + " takes a value");
        }
    }

    private void set(Name name, String value) {
        once(name);
        try {
            switch (name) {
                case CPUS -> cpus = parseInt(value);
                case MEMORY -> memory = ByteSizeConverter.parse(value);
                case KERNEL -> kernel = Path.of(value);
                case CMDLINE -> cmdline = value;
                case SERIAL -> serial = SerialTarget.parse(value);
                case TIMEOUT -> timeout = DurationConverter.parse(value);
                case OFFLINE_CPU -> offlineCpus.add(parseInt(value));
                case NUMA -> numaNodes = parseInt(value);
                case ACCEL -> accel = Accelerator.parse(value);
                case REPORT -> report = Path.of(value);
                default -> throw new IllegalStateException(name + " is a flag");
            }
        } catch (IllegalArgumentException | ArithmeticException e) {
            // ArithmeticException: a duration too long for java.time.Duration. A repeatable
            // option's label is part of the message, as picocli wrote it.
            throw new OptionError("Invalid value for option '" + name.text + "'"
                    + (name == Name.OFFLINE_CPU ? " (" + name.label + ")" : "") + ": "
                    + (e instanceof ArithmeticException ? "'" + value + "' is out of range" : e.getMessage()));
        }
    }

    /** A decimal int with an optional sign, as picocli's int converter (Integer.valueOf) took it. */
    private static int parseInt(String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + value + "' is not an int");
        }
    }

    private static boolean parseBoolean(Name name, String value) {
        if (value.equalsIgnoreCase("true")) return true;
        if (value.equalsIgnoreCase("false")) return false;
        throw new OptionError("Invalid value for option '" + name.text + "': '" + value + "' is not a boolean");
    }

    /** An option's name, alone or with an attached value: not taken as another option's value. */
    private static boolean isOptionName(String value) {
        if (value.equals("-h") || value.equals("-V")) return true;
        int eq = value.indexOf('=');
        return value.startsWith("--") && Name.of(eq < 0 ? value : value.substring(0, eq)) != null;
    }

    /** Looks like an option rather than a value: a dash and more, and not a (negative) number. */
    private static boolean resemblesOption(String arg) {
        if (arg.length() < 2 || arg.charAt(0) != '-') return false;
        try {
            Long.decode(arg);
            return false;
        } catch (NumberFormatException notAnInteger) {
            // fall through
        }
        try {
            Double.parseDouble(arg);
            return false;
        } catch (NumberFormatException notANumber) {
            return true;
        }
    }

    private static String describeUnmatched(List<String> unmatched, int firstIndex) {
        StringBuilder b = new StringBuilder();
        boolean plural = unmatched.size() > 1;
        if (resemblesOption(unmatched.get(0))) {
            b.append("Unknown option").append(plural ? "s" : "").append(": ");
        } else {
            b.append("Unmatched argument").append(plural ? "s from" : " at").append(" index ").append(firstIndex).append(": ");
        }
        for (int k = 0; k < unmatched.size(); k++) {
            if (k > 0) b.append(", ");
            b.append('\'').append(unmatched.get(k)).append('\'');
        }
        return b.toString();
    }
}
