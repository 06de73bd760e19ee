package dev.jkvm.klib.asm;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** binutils objdump as an independent decoder of raw machine code. */
public final class ObjdumpDecoder {

    /** One decoded instruction: offset, length in bytes and disassembly text (AT&T). */
    public record Instruction(int offset, int length, String text) {
    }

    private static final Pattern LINE = Pattern.compile("^\\s*([0-9a-f]+):\\t((?:[0-9a-f]{2} )+)\\s*\\t(.*)$");

    private ObjdumpDecoder() {
    }

    public static List<Instruction> decode(byte[] code, Mode mode) throws Exception {
        Path file = Files.createTempFile("objdump-input", ".bin");
        try {
            Files.write(file, code);
            String machine = switch (mode) {
                case REAL16 -> "i8086";
                case PROTECTED32 -> "i386";
                case LONG64 -> "i386:x86-64";
            };
            Process p = new ProcessBuilder("objdump", "-D", "-b", "binary", "-m", machine, "--insn-width=16",
                    file.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError("objdump failed:\n" + out);
            }
            List<Instruction> result = new ArrayList<>();
            for (String line : out.split("\n")) {
                Matcher m = LINE.matcher(line);
                if (m.matches()) {
                    int length = m.group(2).trim().split(" ").length;
                    result.add(new Instruction(Integer.parseInt(m.group(1), 16), length, m.group(3).trim()));
                }
            }
            return result;
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
