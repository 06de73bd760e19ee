package dev.jkvm.klib.asm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * GNU as (binutils) as an independent encoding oracle: assembles many snippets in one run,
 * each in its own ELF section, and returns every section's bytes and relocations.
 */
final class GnuAs {

    /** What GNU as produced for one snippet. */
    record Output(byte[] bytes, List<GnuRelocation> relocations) {
    }

    /** One ELF64 RELA entry: offset within the section, R_X86_64_* type, symbol name, addend. */
    record GnuRelocation(long offset, int type, String symbol, long addend) {
    }

    private GnuAs() {
    }

    /**
     * Assembles {@code snippets} (Intel syntax, one or more lines each) in {@code mode};
     * snippet i lands in section ".f{i}". Fails with the assembler's message on an error.
     */
    static List<Output> assemble(Mode mode, List<String> snippets) throws IOException, InterruptedException {
        // Batches keep the section count below ELF's 0xff00 limit for plain section indices.
        int batch = 8000;
        List<Output> out = new ArrayList<>();
        for (int from = 0; from < snippets.size(); from += batch) {
            out.addAll(assembleBatch(mode, snippets.subList(from, Math.min(snippets.size(), from + batch))));
        }
        return out;
    }

    private static List<Output> assembleBatch(Mode mode, List<String> snippets) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("gnu-as-oracle");
        try {
            StringBuilder src = new StringBuilder(".intel_syntax noprefix\n");
            src.append(switch (mode) {
                case REAL16 -> ".code16\n";
                case PROTECTED32 -> ".code32\n";
                case LONG64 -> ".code64\n";
            });
            for (int i = 0; i < snippets.size(); i++) {
                src.append(".section .f").append(i).append(",\"ax\",@progbits\n");
                src.append(snippets.get(i)).append('\n');
            }
            Path source = dir.resolve("forms.s");
            Path object = dir.resolve("forms.o");
            Files.writeString(source, src.toString());
            ProcessBuilder pb = new ProcessBuilder("as", "--64", "-o", object.toString(), source.toString())
                    .redirectErrorStream(true);
            Process p = pb.start();
            String messages = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0 || messages.contains("Error")) {
                throw new AssertionError("GNU as failed on the oracle input (" + source + "):\n"
                        + annotate(messages, src.toString()));
            }
            return parse(Files.readAllBytes(object), snippets.size());
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private static String annotate(String messages, String source) {
        String[] lines = source.split("\n", -1);
        StringBuilder out = new StringBuilder();
        for (String m : messages.split("\n")) {
            out.append(m).append('\n');
            var matcher = java.util.regex.Pattern.compile(":(\\d+): ").matcher(m);
            if (matcher.find()) {
                int line = Integer.parseInt(matcher.group(1));
                if (line - 1 < lines.length) {
                    out.append("    > ").append(lines[line - 1]).append('\n');
                }
            }
        }
        return out.toString();
    }

    /** Minimal ELF64 relocatable-file reader (System V gABI, section header table). */
    private static List<Output> parse(byte[] elf, int count) {
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        long shoff = b.getLong(0x28);
        int shentsize = Short.toUnsignedInt(b.getShort(0x3A));
        int shnum = Short.toUnsignedInt(b.getShort(0x3C));
        int shstrndx = Short.toUnsignedInt(b.getShort(0x3E));
        long[] offsets = new long[shnum];
        long[] sizes = new long[shnum];
        int[] types = new int[shnum];
        int[] links = new int[shnum];
        int[] infos = new int[shnum];
        int[] nameOffsets = new int[shnum];
        for (int i = 0; i < shnum; i++) {
            int h = (int) (shoff + (long) i * shentsize);
            nameOffsets[i] = b.getInt(h);
            types[i] = b.getInt(h + 4);
            offsets[i] = b.getLong(h + 0x18);
            sizes[i] = b.getLong(h + 0x20);
            links[i] = b.getInt(h + 0x28);
            infos[i] = b.getInt(h + 0x2C);
        }
        Map<String, Integer> byName = new HashMap<>();
        for (int i = 0; i < shnum; i++) {
            byName.put(cString(elf, (int) offsets[shstrndx] + nameOffsets[i]), i);
        }
        List<Output> out = new ArrayList<>();
        for (int f = 0; f < count; f++) {
            Integer idx = byName.get(".f" + f);
            if (idx == null) {
                throw new AssertionError("GNU as output lacks section .f" + f);
            }
            byte[] bytes = new byte[(int) sizes[idx]];
            System.arraycopy(elf, (int) offsets[idx], bytes, 0, bytes.length);
            List<GnuRelocation> relocations = new ArrayList<>();
            for (int r = 0; r < shnum; r++) {
                if (types[r] == 4 && infos[r] == idx) {
                    int symtab = links[r];
                    int strtab = links[symtab];
                    for (long e = offsets[r]; e < offsets[r] + sizes[r]; e += 24) {
                        long info = b.getLong((int) e + 8);
                        int sym = (int) (info >>> 32);
                        int symName = b.getInt((int) (offsets[symtab] + sym * 24L));
                        relocations.add(new GnuRelocation(b.getLong((int) e), (int) info,
                                cString(elf, (int) offsets[strtab] + symName), b.getLong((int) e + 16)));
                    }
                }
            }
            out.add(new Output(bytes, relocations));
        }
        return out;
    }

    private static String cString(byte[] data, int at) {
        int end = at;
        while (data[end] != 0) {
            end++;
        }
        return new String(data, at, end - at, StandardCharsets.US_ASCII);
    }
}
