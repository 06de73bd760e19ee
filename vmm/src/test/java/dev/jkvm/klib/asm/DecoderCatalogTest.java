package dev.jkvm.klib.asm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.emulated.cpu.CpuState;
import dev.jkvm.vmm.emulated.cpu.Decoder;
import dev.jkvm.vmm.emulated.cpu.DecoderProbe;
import dev.jkvm.vmm.emulated.cpu.Insn;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The emulated CPU's decoder against every single-instruction form of the assembler's encoding
 * catalog (the forms GnuAsEncodingTest checks byte for byte against GNU as), in 16-, 32- and
 * 64-bit mode: the decoded length is the form's length, the instruction is valid, and its
 * operands are the ones the GNU text names (registers, base/index/scale/displacement, segment
 * override, immediate).
 */
class DecoderCatalogTest {
    private static final Map<String, int[]> REGS = new HashMap<>();

    static {
        String[] q = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"};
        String[] d = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
        String[] w = {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di"};
        String[] b = {"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil"};
        String[] h = {"ah", "ch", "dh", "bh"};
        for (int i = 0; i < 8; i++) {
            REGS.put(q[i], new int[] {i, 8});
            REGS.put(d[i], new int[] {i, 4});
            REGS.put(w[i], new int[] {i, 2});
            REGS.put(b[i], new int[] {i, 1});
        }
        for (int i = 0; i < 4; i++) REGS.put(h[i], new int[] {4 + i, 1, 1}); // legacy high byte: needs no REX
        for (int i = 8; i < 16; i++) {
            REGS.put("r" + i, new int[] {i, 8});
            REGS.put("r" + i + "d", new int[] {i, 4});
            REGS.put("r" + i + "w", new int[] {i, 2});
            REGS.put("r" + i + "b", new int[] {i, 1});
        }
    }

    private static final Map<String, Integer> SEGS = Map.of("es", CpuState.ES, "cs", CpuState.CS, "ss", CpuState.SS,
            "ds", CpuState.DS, "fs", CpuState.FS, "gs", CpuState.GS);
    private static final Pattern MEM = Pattern.compile("(?:(?:byte|word|dword|qword|fword|tbyte|xmmword) ptr )?(?:([a-z]s):)?\\[([^\\]]*)\\]");

    @ParameterizedTest
    @EnumSource(Mode.class)
    void everyCatalogFormDecodes(Mode mode) {
        int decodeMode = switch (mode) {
            case REAL16 -> Decoder.MODE16;
            case PROTECTED32 -> Decoder.MODE32;
            case LONG64 -> Decoder.MODE64;
        };
        List<Form> forms = EncodingCatalog.forms(mode);
        List<String> failures = new ArrayList<>();
        int checked = 0, operandChecked = 0;
        HexFormat hex = HexFormat.ofDelimiter(" ");
        for (Form form : forms) {
            String gnu = form.gnu();
            if (gnu.contains("\n") || gnu.contains("%") || gnu.startsWith(".")) continue; // multi-instruction forms
            Assembler a = new Assembler(mode);
            a.section("other", Section.Kind.DATA);
            Label ext = a.label("ext");
            a.db(0);
            Section text = a.section("text");
            form.ours().emit(a, ext);
            byte[] bytes = text.bytes();
            Insn in = DecoderProbe.decode(bytes, decodeMode);
            checked++;
            String where = "`" + gnu + "` [" + hex.formatHex(bytes) + "]: ";
            if (DecoderProbe.invalid(in) != gnu.equals("ud2")) {
                failures.add(where + (gnu.equals("ud2") ? "UD2 decoded as valid" : "decoded as invalid"));
                continue;
            }
            if (in.length != bytes.length) {
                failures.add(where + "length " + in.length + ", assembled " + bytes.length);
                continue;
            }
            if (DecoderProbe.unimplemented(in)) continue;
            String problem = operands(gnu, in);
            if (problem == null) operandChecked++;
            else if (!problem.isEmpty()) failures.add(where + problem);
        }
        assertTrue(failures.isEmpty(), failures.size() + " of " + checked + " forms (" + mode + "):\n"
                + String.join("\n", failures.subList(0, Math.min(50, failures.size()))));
        assertTrue(operandChecked > checked / 2, "operands compared on only " + operandChecked + " of " + checked);
        System.out.println(mode + ": " + checked + " single-instruction forms decoded, operands compared on " + operandChecked);
    }

    /** null when operands agree, "" when this form's operands are not compared, else what differs. */
    private static String operands(String gnu, Insn in) {
        int space = gnu.indexOf(' ');
        if (space < 0) return null;
        String mnemonic = gnu.substring(0, space);
        String rest = gnu.substring(space + 1).trim();
        if (mnemonic.startsWith("rep") || mnemonic.startsWith("lock") || mnemonic.startsWith("data") || mnemonic.startsWith("rex")
                || mnemonic.startsWith("addr")) {
            return "";
        }
        if (DecoderProbe.system(in) || gnu.matches("xchg (ax, ax|eax, eax|rax, rax)") || rest.contains("cr") && rest.matches(".*\\bcr\\d.*") || rest.contains("xmm")) return "";
        List<String> ops = new ArrayList<>();
        for (String op : rest.split(",")) ops.add(op.trim());
        List<String> problems = new ArrayList<>();
        int regIndex = 0;
        for (String op : ops) {
            Matcher m = MEM.matcher(op);
            if (m.matches()) {
                if (in.mod == 3) return "memory operand decoded as register";
                if (m.group(1) != null && in.segment != SEGS.get(m.group(1))) problems.add("segment " + in.segment);
                memory(m.group(2), in, problems);
                continue;
            }
            if (op.startsWith("ds:") || op.startsWith("fs:") || op.startsWith("gs:") || op.contains("ptr ds:")) {
                continue; // moffs spelled without brackets
            }
            int[] r = REGS.get(op);
            if (r != null) {
                boolean implicit = op.equals("cl") && (mnemonic.matches("(ro|rc|sh|sa)[lr]d?") || mnemonic.equals("shld")
                        || mnemonic.equals("shrd"));
                if (implicit) continue;
                boolean inReg = (in.reg & 15) == r[0]; // implicit accumulators are decoded as reg 0
                boolean inRm = in.mod == 3 && (in.rm & 15) == r[0];
                if (!inReg && !inRm) problems.add("register " + op + " not decoded (reg " + in.reg + ", rm " + in.rm + ", mod " + in.mod + ")");
                if (r.length == 3 && in.rex != 0) problems.add(op + " with a REX prefix");
                if (r[1] == 1 && r[0] >= 4 && r[0] < 8 && r.length == 2 && in.rex == 0) problems.add(op + " without REX");
                if (regIndex == 0 && !DecoderProbe.mixedSizes(in) && r[1] != in.size && !mnemonic.equals("imul")
                        && !mnemonic.startsWith("in") && !mnemonic.startsWith("out")) {
                    problems.add("size " + in.size + " for " + op);
                }
                regIndex++;
                continue;
            }
            Long imm = number(op);
            if (imm != null) {
                long size = in.size == 16 ? 8 : in.size;
                long mask = size >= 8 ? -1L : (1L << (8 * size)) - 1;
                if ((in.imm & mask) != (imm & mask) && (in.imm2 & mask) != (imm & mask) && (in.imm & 0xFF) != (imm & 0xFF)) {
                    problems.add("immediate " + Long.toHexString(in.imm) + " for " + op);
                }
                continue;
            }
            return ""; // labels, offsets, far pointers, segment registers...
        }
        return problems.isEmpty() ? null : String.join("; ", problems);
    }

    private static void memory(String inside, Insn in, List<String> problems) {
        int base = -1, index = -1, scale = 0;
        long disp = 0;
        boolean symbolic = false;
        Matcher t = Pattern.compile("([+-]?)([a-z0-9]+)(?:\\*(\\d))?").matcher(inside);
        while (t.find()) {
            String sign = t.group(1), term = t.group(2);
            if (term.equals("rip") || term.equals("eip")) { base = Insn.BASE_RIP; continue; }
            if (term.equals("ext")) { symbolic = true; continue; }
            int[] r = REGS.get(term);
            if (r != null) {
                if (t.group(3) != null || base != -1 && index == -1 && base != Insn.BASE_RIP && false) {
                    index = r[0];
                    scale = Integer.numberOfTrailingZeros(Integer.parseInt(t.group(3)));
                } else if (base == -1) {
                    base = r[0];
                } else {
                    index = r[0];
                }
                continue;
            }
            Long n = number(term);
            if (n != null) disp += sign.equals("-") ? -n : n;
        }
        if (in.base != base) problems.add("base " + in.base + " expected " + base);
        if (in.index != index) problems.add("index " + in.index + " expected " + index);
        if (index >= 0 && in.scale != scale) problems.add("scale " + in.scale + " expected " + scale);
        if (!symbolic) {
            long mask = in.addrSize == 8 ? -1L : in.addrSize == 4 ? 0xFFFF_FFFFL : 0xFFFFL;
            if ((in.disp & mask) != (disp & mask)) problems.add("displacement " + Long.toHexString(in.disp) + " expected " + Long.toHexString(disp));
        }
    }

    private static Long number(String s) {
        try {
            boolean neg = s.startsWith("-");
            String t = neg ? s.substring(1) : s;
            long v = t.startsWith("0x") ? Long.parseUnsignedLong(t.substring(2), 16) : Long.parseLong(t);
            return neg ? -v : v;
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
