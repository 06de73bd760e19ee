package dev.jkvm.vmm.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random byte strings decoded by our decoder and by binutils objdump (an independent decoder):
 * every instruction we implement must have objdump's length and be valid for objdump. Each sample
 * is followed by 16 NOPs so objdump is back in step at the next sample whatever it decoded.
 */
class DecoderObjdumpTest {
    private static final int SAMPLES = 3000;
    private static final Pattern LINE = Pattern.compile("^\\s*([0-9a-f]+):\\t((?:[0-9a-f]{2} )+)\\s*\\t?(.*)$");
    private static final String PREFIX_WORD = "(rex(\\.[WRXB]+)?|data16|data32|addr16|addr32|cs|ds|es|ss|fs|gs|lock|rep[a-z]*|bnd|notrack)";
    private static final Pattern LONE_PREFIX = Pattern.compile("^" + PREFIX_WORD + "(\\s+" + PREFIX_WORD + ")*$");

    private static final int[] PREFIXES = {0x66, 0x67, 0xF2, 0xF3, 0xF0, 0x2E, 0x3E, 0x26, 0x36, 0x64, 0x65};

    record Objdumped(int length, String text) {
    }

    @ParameterizedTest
    @ValueSource(ints = {Decoder.MODE16, Decoder.MODE32, Decoder.MODE64})
    void implementedInstructionsHaveObjdumpsLength(int mode) throws Exception {
        Random rnd = new Random(mode * 31L);
        Decoder decoder = new Decoder();
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        List<Integer> offsets = new ArrayList<>();
        List<Insn> decoded = new ArrayList<>();
        for (int i = 0; i < SAMPLES; i++) {
            byte[] sample = new byte[15];
            rnd.nextBytes(sample);
            int p = 0;
            int prefixes = rnd.nextInt(4) == 0 ? rnd.nextInt(3) : 0;
            for (int k = 0; k < prefixes; k++) sample[p++] = (byte) PREFIXES[rnd.nextInt(PREFIXES.length)];
            if (mode == Decoder.MODE64 && rnd.nextInt(3) == 0) sample[p++] = (byte) (0x40 | rnd.nextInt(16));
            if (rnd.nextBoolean()) sample[p] = 0x0F;
            Insn in = new Insn();
            decoder.decode(at -> sample[(int) at] & 0xFF, 0, mode, in);
            offsets.add(stream.size());
            decoded.add(in);
            boolean valid = isImplemented(in);
            stream.write(sample, 0, valid ? in.length : 15);
            for (int k = 0; k < 16; k++) stream.write(0x90);
        }
        Map<Integer, Objdumped> objdump = objdump(stream.toByteArray(), mode);
        List<String> failures = new ArrayList<>();
        int compared = 0;
        HexFormat hex = HexFormat.of();
        for (int i = 0; i < SAMPLES; i++) {
            Insn in = decoded.get(i);
            if (!isImplemented(in)) continue;
            Objdumped o = objdump.get(offsets.get(i));
            String bytes = hex.formatHex(in.bytes, 0, in.length);
            compared++;
            if (o == null) {
                failures.add(bytes + ": objdump has no instruction here");
            } else if (o.text.contains("(bad)")) {
                if (!objdumpRejectsWhatHardwareRuns(in)) failures.add(bytes + ": objdump says (bad), we decode handler " + in.handler + " length " + in.length);
            } else if (o.length != in.length) {
                failures.add(bytes + ": length " + in.length + ", objdump " + o.length + " `" + o.text + "`");
            }
        }
        assertTrue(compared > SAMPLES / 4, "compared only " + compared);
        assertTrue(failures.isEmpty(), failures.size() + " of " + compared + " (mode " + mode + "):\n"
                + String.join("\n", failures.subList(0, Math.min(60, failures.size()))));
    }

    /**
     * Encodings objdump calls (bad) that processors execute: SALC (D6, undocumented, QEMU runs it),
     * 0F 1A/1B outside MPX's operand rules (reserved hint NOPs), and 0F AE F1..FF (fences with a
     * non-zero r/m, which Intel CPUs and QEMU execute as the fence).
     */
    static boolean objdumpRejectsWhatHardwareRuns(Insn in) {
        return in.handler == Handler.SALC
                || in.handler == Handler.NOP && (in.opcode == 0x11A || in.opcode == 0x11B)
                || in.handler == Handler.FENCE;
    }

    static boolean isImplemented(Insn in) {
        return in.handler != Handler.UD && in.handler != Handler.UNIMPLEMENTED && in.handler != Handler.GP_LENGTH;
    }

    static Map<Integer, Objdumped> objdump(byte[] code, int mode) throws Exception {
        Path file = Files.createTempFile("decoder-objdump", ".bin");
        try {
            Files.write(file, code);
            String machine = switch (mode) {
                case Decoder.MODE16 -> "i8086";
                case Decoder.MODE32 -> "i386";
                default -> "i386:x86-64";
            };
            Process p = new ProcessBuilder("objdump", "-D", "-b", "binary", "-m", machine, "-M", "intel", "--insn-width=16",
                    file.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new AssertionError("objdump failed:\n" + out);
            List<int[]> starts = new ArrayList<>();
            List<String> texts = new ArrayList<>();
            for (String line : out.split("\n")) {
                Matcher m = LINE.matcher(line);
                if (m.matches()) {
                    starts.add(new int[] {Integer.parseInt(m.group(1), 16), m.group(2).trim().split(" ").length});
                    texts.add(m.group(3).trim());
                }
            }
            Map<Integer, Objdumped> result = new HashMap<>();
            for (int i = 0; i < starts.size(); i++) {
                int off = starts.get(i)[0];
                int len = starts.get(i)[1];
                String text = texts.get(i);
                int j = i;
                // objdump prints a prefix it could not attach as its own line: merge it with what follows.
                while (LONE_PREFIX.matcher(texts.get(j)).matches() && j + 1 < starts.size()) {
                    j++;
                    len += starts.get(j)[1];
                    text = text + " " + texts.get(j);
                }
                result.put(off, new Objdumped(len, text));
            }
            return result;
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
