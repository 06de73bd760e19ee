package dev.jkvm.vmm.emulated.lockstep;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GNU objdump as the disassembler of mismatch reports and of the harness self-test's RIP checks:
 * {@code objdump -D -b binary -m i386:x86-64|i386|i8086 --adjust-vma=ADDR -w}. Results are cached
 * by (bytes, address, mode), so a boot trace runs objdump once per distinct instruction.
 */
final class Objdump {
    static final String BINARY = "/usr/bin/objdump";
    private static final Pattern LINE = Pattern.compile("^\\s*(\\p{XDigit}+):\\t((?:\\p{XDigit}{2} )+)\\s*\\t?(.*)$");

    /** One decoded instruction. */
    record Line(long address, int length, String text) {
        /** True for instructions that may leave RIP somewhere other than the next instruction. */
        boolean transfersControl() {
            String m = text.strip().replaceFirst("^(rep[a-z]*|lock|bnd|notrack|data16|addr32|cs|ds|es|ss|fs|gs)\\s+", "");
            return m.startsWith("j") || m.startsWith("call") || m.startsWith("ret") || m.startsWith("loop")
                    || m.startsWith("iret") || m.startsWith("int") || m.startsWith("sys") || m.startsWith("hlt")
                    || m.startsWith("lcall") || m.startsWith("ljmp") || m.startsWith("lret") || m.startsWith("ud")
                    || m.startsWith("(bad)") || text.startsWith("rep");
        }
    }

    private final Map<String, List<Line>> cache = new HashMap<>();

    static boolean available() {
        return Files.isExecutable(Path.of(BINARY));
    }

    /** The first instruction of {@code code} at {@code address} in a {@code bits}-bit code segment. */
    Line first(byte[] code, long address, int bits) {
        List<Line> l = disassemble(code, address, bits);
        return l.isEmpty() ? new Line(address, 0, "(objdump printed nothing)") : l.get(0);
    }

    List<Line> disassemble(byte[] code, long address, int bits) {
        String key = java.util.HexFormat.of().formatHex(code) + "@" + address + "/" + bits;
        List<Line> hit = cache.get(key);
        if (hit != null) return hit;
        List<Line> lines = run(code, address, bits);
        if (cache.size() > 100_000) cache.clear();
        cache.put(key, lines);
        return lines;
    }

    /** A listing: one "address: bytes  text" line per instruction. */
    String listing(byte[] code, long address, int bits) {
        StringBuilder sb = new StringBuilder();
        for (Line l : disassemble(code, address, bits)) {
            int off = (int) (l.address - address);
            StringBuilder hex = new StringBuilder();
            for (int i = off; i < off + l.length && i < code.length; i++) hex.append(String.format("%02x ", code[i]));
            sb.append(String.format("  %x: %-30s %s%n", l.address, hex.toString().strip(), l.text));
        }
        return sb.toString();
    }

    private static List<Line> run(byte[] code, long address, int bits) {
        Path f = null;
        try {
            f = Files.createTempFile("lockstep-insn", ".bin");
            Files.write(f, code);
            String machine = switch (bits) {
                case 64 -> "i386:x86-64";
                case 32 -> "i386";
                default -> "i8086";
            };
            Process p = new ProcessBuilder(BINARY, "-D", "-b", "binary", "-m", machine, "-w", "--insn-width=16",
                    "--adjust-vma=0x" + Long.toHexString(address), f.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) p.destroyForcibly();
            List<Line> lines = new ArrayList<>();
            for (String s : out.split("\n")) {
                Matcher m = LINE.matcher(s);
                if (m.matches()) {
                    int len = m.group(2).strip().split(" ").length;
                    lines.add(new Line(Long.parseUnsignedLong(m.group(1), 16), len, m.group(3).strip().replaceAll("\\s+", " ")));
                }
            }
            return lines;
        } catch (IOException e) {
            return List.of(new Line(address, 0, "(objdump failed: " + e.getMessage() + ")"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        } finally {
            if (f != null) {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException ignored) {
                    // temp file
                }
            }
        }
    }
}
