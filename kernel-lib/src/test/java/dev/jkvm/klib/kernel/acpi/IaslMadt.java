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
 * The independent oracle: ACPICA's disassembler (iasl -d) decodes an MADT, and this class turns
 * its field listing into the topology ACPI discovery is specified to produce (boot CPU first,
 * then usable processors in table order; Defect/Topology document those rules).
 */
final class IaslMadt {
    private static final Path IASL = Path.of("/usr/bin/iasl");
    /** "[02Fh 0047   1]                Local Apic ID : 00" */
    private static final Pattern FIELD = Pattern.compile("^\\[[0-9A-F]+h \\d+ +\\d+\\] +(.+?) : ([0-9A-F]+)\\b.*$");

    private IaslMadt() {
    }

    static boolean available() {
        return Files.isExecutable(IASL);
    }

    /** The MADT's header fields and subtables as iasl names them, in table order. */
    record Decoded(Map<String, Long> header, List<Map<String, Long>> subtables) {}

    static Decoded decode(byte[] madt) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("iasl-madt");
        try {
            Path input = dir.resolve("apic.dat");
            Files.write(input, madt);
            Process p = new ProcessBuilder(IASL.toString(), "-d", input.toString()).directory(dir.toFile())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("iasl.log").toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("iasl -d failed: " + Files.readString(dir.resolve("iasl.log")));
            }
            Map<String, Long> header = new LinkedHashMap<>();
            List<Map<String, Long>> subtables = new ArrayList<>();
            Map<String, Long> current = header;
            for (String line : Files.readAllLines(dir.resolve("apic.dsl"))) {
                Matcher m = FIELD.matcher(line);
                if (!m.matches()) {
                    continue;
                }
                String name = m.group(1).replace(" (decoded below)", "");
                long value = Long.parseUnsignedLong(m.group(2), 16);
                if (name.equals("Subtable Type")) {
                    current = new LinkedHashMap<>();
                    subtables.add(current);
                }
                current.put(name, value);
            }
            return new Decoded(header, subtables);
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    /** The topology the specification demands for this MADT and boot CPU (log, outcome and defects excluded). */
    static DiscoveredTopology expected(Decoded madt, int bspApicId) {
        List<DiscoveredTopology.Cpu> cpus = new ArrayList<>();
        cpus.add(null);
        List<DiscoveredTopology.IoApic> ioApics = new ArrayList<>();
        List<DiscoveredTopology.Override> overrides = new ArrayList<>();
        List<DiscoveredTopology.Nmi> nmis = new ArrayList<>();
        long lapic = madt.header().get("Local Apic Address");
        int unusable = 0;
        for (Map<String, Long> s : madt.subtables()) {
            int type = s.get("Subtable Type").intValue();
            switch (type) {
                case 0, 9 -> {
                    int apicId = (int) (long) (type == 0 ? s.get("Local Apic ID") : s.get("Processor x2Apic ID"));
                    int uid = (int) (long) (type == 0 ? s.get("Processor ID") : s.get("Processor UID"));
                    int flags = (int) (s.get("Flags") & 3) | (type == 9 ? Topology.CPU_X2APIC_ENTRY : 0);
                    if (apicId == bspApicId && cpus.get(0) == null) {
                        cpus.set(0, new DiscoveredTopology.Cpu(apicId, uid,
                                flags | Topology.CPU_ENABLED | Topology.CPU_BSP));
                    } else if ((flags & 3) == 0) {
                        unusable++;
                    } else {
                        cpus.add(new DiscoveredTopology.Cpu(apicId, uid, flags));
                    }
                }
                case 1 -> ioApics.add(new DiscoveredTopology.IoApic((int) (long) s.get("I/O Apic ID"),
                        s.get("Address"), (int) (long) s.get("Interrupt")));
                case 2 -> overrides.add(new DiscoveredTopology.Override((int) (long) s.get("Bus"),
                        (int) (long) s.get("Source"), (int) (long) s.get("Interrupt"), (int) (long) s.get("Flags")));
                case 3 -> nmis.add(new DiscoveredTopology.Nmi(Topology.NMI_SOURCE, (int) (long) s.get("Interrupt"),
                        (int) (long) s.get("Flags"), 0));
                case 4 -> {
                    long uid = s.get("Processor ID");
                    nmis.add(new DiscoveredTopology.Nmi(Topology.NMI_LOCAL_APIC, uid == 0xFF ? -1 : (int) uid,
                            (int) (long) s.get("Flags"), (int) (long) s.get("Interrupt Input LINT")));
                }
                case 5 -> lapic = s.get("APIC Address");
                case 0xA -> nmis.add(new DiscoveredTopology.Nmi(Topology.NMI_LOCAL_APIC,
                        (int) (long) s.get("Processor UID"), (int) (long) s.get("Flags"),
                        (int) (long) s.get("Interrupt Input LINT")));
                default -> {
                }
            }
        }
        return new DiscoveredTopology(0, 0, lapic, (int) (long) madt.header().get("Flags"), cpus, ioApics, overrides,
                nmis, unusable, 0, "");
    }
}
