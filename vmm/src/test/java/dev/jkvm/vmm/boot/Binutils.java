package dev.jkvm.vmm.boot;

import dev.jkvm.testsupport.GnuToolchain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GNU binutils as an independent oracle: what {@code readelf} and {@code nm} say about the kernels
 * {@link MultibootTestKernels} builds with the shared {@link GnuToolchain}, in its working directory.
 */
final class Binutils {
    private Binutils() {}

    /** The boot tests' toolchain; its directory holds every test kernel and QEMU dump. */
    static final GnuToolchain TOOLCHAIN = new GnuToolchain(Path.of("target", "test-kernels"));

    /** A PT_LOAD line of {@code readelf -lW}. */
    record Segment(long offset, long virtualAddress, long physicalAddress, long fileSize, long memorySize, String flags) {}

    /** A line of {@code readelf -SW}. */
    record Section(int index, String name, String type, long address, long offset, long size) {}

    /** A line of {@code nm -S}; size is -1 when nm prints none. */
    record NmSymbol(String name, long address, long size, char type) {}

    static String run(String... command) {
        return TOOLCHAIN.run(command);
    }

    static byte[] bytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final Pattern LOAD = Pattern.compile(
            "^\\s*LOAD\\s+0x(\\p{XDigit}+)\\s+0x(\\p{XDigit}+)\\s+0x(\\p{XDigit}+)\\s+0x(\\p{XDigit}+)\\s+0x(\\p{XDigit}+)\\s+(.+?)\\s+0x\\p{XDigit}+\\s*$");

    static List<Segment> loadSegments(Path elf) {
        List<Segment> list = new ArrayList<>();
        for (String line : run("readelf", "-lW", elf.getFileName().toString()).split("\n")) {
            Matcher m = LOAD.matcher(line);
            if (m.matches()) {
                list.add(new Segment(hex(m.group(1)), hex(m.group(2)), hex(m.group(3)), hex(m.group(4)), hex(m.group(5)),
                        m.group(6).trim()));
            }
        }
        return list;
    }

    private static final Pattern SECTION = Pattern.compile(
            "^\\s*\\[\\s*(\\d+)\\]\\s+(\\S+)\\s+(\\S+)\\s+(\\p{XDigit}+)\\s+(\\p{XDigit}+)\\s+(\\p{XDigit}+)\\s.*$");

    /** Sections 1..n (readelf prints section 0 without a name). */
    static List<Section> sections(Path elf) {
        List<Section> list = new ArrayList<>();
        for (String line : run("readelf", "-SW", elf.getFileName().toString()).split("\n")) {
            Matcher m = SECTION.matcher(line);
            if (m.matches() && !m.group(1).equals("0")) {
                list.add(new Section(Integer.parseInt(m.group(1)), m.group(2), m.group(3), hex(m.group(4)),
                        hex(m.group(5)), hex(m.group(6))));
            }
        }
        return list;
    }

    static Section section(Path elf, String name) {
        return sections(elf).stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }

    /** A numeric field of {@code readelf -hW}, e.g. "Entry point address". */
    static long headerField(Path elf, String label) {
        for (String line : run("readelf", "-hW", elf.getFileName().toString()).split("\n")) {
            String t = line.trim();
            if (t.startsWith(label + ":")) {
                String v = t.substring(label.length() + 1).trim().split("\\s+")[0];
                return v.startsWith("0x") ? hex(v.substring(2)) : Long.parseLong(v);
            }
        }
        throw new IllegalStateException("readelf -h prints no " + label);
    }

    static Map<String, NmSymbol> nm(Path elf) {
        Map<String, NmSymbol> map = new HashMap<>();
        for (String line : run("nm", "-S", elf.getFileName().toString()).split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 4) map.put(f[3], new NmSymbol(f[3], hex(f[0]), hex(f[1]), f[2].charAt(0)));
            if (f.length == 3) map.put(f[2], new NmSymbol(f[2], hex(f[0]), -1, f[1].charAt(0)));
        }
        return map;
    }

    static long hex(String s) {
        return Long.parseUnsignedLong(s, 16);
    }
}
