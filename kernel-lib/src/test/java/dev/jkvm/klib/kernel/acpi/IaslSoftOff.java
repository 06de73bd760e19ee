package dev.jkvm.klib.kernel.acpi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The independent oracle for soft-off: ACPICA's disassembler (iasl -d) decodes the FADT's fields
 * and the DSDT's AML, and this class reads from its listing what the specification says the
 * kernel must use — the register (§5.2.9: an extended X_ block when usable, else the 32-bit
 * block) and the \_Sx package values (§7.4.2).
 */
final class IaslSoftOff {
    private static final Path IASL = Path.of("/usr/bin/iasl");
    /** "[040h 0064   4]   PM1A Control Block Address : 00000604" */
    private static final Pattern FIELD = Pattern.compile("^\\[[0-9A-F]+h (\\d+) +\\d+\\] +(.+?) : ([0-9A-F]+)\\b.*$");
    /** "[0ACh 0172  12]           PM1A Control Block : [Generic Address Structure]" */
    private static final Pattern GAS = Pattern.compile("^\\[[0-9A-F]+h \\d+ +\\d+\\] +(.+?) : \\[Generic Address Structure\\]$");
    /** "                       Hardware Reduced (V5) : 1" */
    private static final Pattern FLAG = Pattern.compile("^ +(.+?) : ([01])$");
    /** "Name (_S5, Package (0x04)  // ..." followed by "{ 0x05, Zero, ... }" */
    private static final Pattern SLEEP_PACKAGE = Pattern.compile(
            "Name \\(\\\\?(_S[0-5]), Package \\(0x[0-9A-F]+\\)[^{]*\\{([^}]*)\\}");

    private IaslSoftOff() {
    }

    static boolean available() {
        return Files.isExecutable(IASL);
    }

    /** A register as iasl describes it: address space and address. */
    record Register(int space, long address) {}

    /** The FADT fields soft-off depends on, decoded by iasl. */
    record FadtFields(long dsdt, boolean hardwareReduced, Register pm1aControl, Register pm1bControl,
            Register sleepControl, long smiCommand, int acpiEnable) {}

    static FadtFields fadt(byte[] table) throws IOException, InterruptedException {
        List<String> lines = disassemble(table, "facp").lines().toList();
        Map<String, List<Long>> byName = new LinkedHashMap<>();
        Map<String, Map<String, Long>> gas = new LinkedHashMap<>();
        Map<String, Long> flags = new LinkedHashMap<>();
        Map<String, Long> currentGas = null;
        for (String line : lines) {
            Matcher g = GAS.matcher(line);
            if (g.matches()) {
                currentGas = new LinkedHashMap<>();
                gas.put(g.group(1), currentGas);
                continue;
            }
            Matcher f = FIELD.matcher(line);
            if (f.matches()) {
                long value = Long.parseUnsignedLong(f.group(3), 16);
                String name = f.group(2).replace(" (decoded below)", "");
                if (currentGas != null && GAS_FIELDS.contains(name)) {
                    currentGas.put(name, value);
                } else {
                    currentGas = null;
                    byName.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
                }
                continue;
            }
            Matcher flag = FLAG.matcher(line);
            if (flag.matches()) {
                flags.put(flag.group(1), Long.parseLong(flag.group(2)));
            }
        }
        // iasl names both DSDT fields "DSDT Address": the 32-bit one, then X_DSDT when the table has it.
        List<Long> dsdt = byName.get("DSDT Address");
        long chosenDsdt = dsdt.size() > 1 && dsdt.get(1) != 0 ? dsdt.get(1) : dsdt.get(0);
        return new FadtFields(chosenDsdt, flags.getOrDefault("Hardware Reduced (V5)", 0L) == 1,
                register(gas.get("PM1A Control Block"), byName.get("PM1A Control Block Address").get(0)),
                register(gas.get("PM1B Control Block"), byName.get("PM1B Control Block Address").get(0)),
                register(gas.get("Sleep Control Register"), 0L),
                byName.get("SMI Command Port").get(0), (int) (long) byName.get("ACPI Enable Value").get(0));
    }

    private static final List<String> GAS_FIELDS = List.of("Space ID", "Bit Width", "Bit Offset", "Encoded Access Width",
            "Address");

    /** §5.2.9: a usable extended block wins; the 32-bit block is an I/O port; absent is null. */
    private static Register register(Map<String, Long> extended, Long legacyPort) {
        if (extended != null && extended.get("Address") != 0 && extended.get("Bit Offset") == 0
                && extended.get("Space ID") <= GenericAddress.SPACE_IO) {
            return new Register((int) (long) extended.get("Space ID"), extended.get("Address"));
        }
        if (legacyPort != null && legacyPort != 0) {
            return new Register(GenericAddress.SPACE_IO, legacyPort);
        }
        return null;
    }

    /** Every \_Sx package in the DSDT: name (e.g. "_S5") to its integer elements in order. */
    static Map<String, List<Long>> sleepPackages(byte[] dsdt) throws IOException, InterruptedException {
        String text = disassemble(dsdt, "dsdt");
        Map<String, List<Long>> packages = new LinkedHashMap<>();
        Matcher m = SLEEP_PACKAGE.matcher(text);
        while (m.find()) {
            List<Long> values = new ArrayList<>();
            for (String element : m.group(2).split(",")) {
                String e = element.replaceAll("//.*", "").strip();
                if (e.isEmpty()) {
                    continue;
                }
                values.add(switch (e) {
                    case "Zero" -> 0L;
                    case "One" -> 1L;
                    case "Ones" -> -1L;
                    default -> Long.decode(e);
                });
            }
            packages.put(m.group(1), values);
        }
        return packages;
    }

    private static String disassemble(byte[] table, String name) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("iasl-" + name);
        try {
            Path input = dir.resolve(name + ".dat");
            Files.write(input, table);
            Process p = new ProcessBuilder(IASL.toString(), "-d", input.toString()).directory(dir.toFile())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("iasl.log").toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("iasl -d failed: " + Files.readString(dir.resolve("iasl.log")));
            }
            return Files.readString(dir.resolve(name + ".dsl"));
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }
}
