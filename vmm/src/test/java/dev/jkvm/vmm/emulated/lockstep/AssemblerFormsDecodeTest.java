package dev.jkvm.vmm.emulated.lockstep;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jkvm.klib.asm.AsmException;
import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
import dev.jkvm.klib.asm.CtrlReg;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.Reg;
import dev.jkvm.klib.asm.SegReg;
import dev.jkvm.vmm.emulated.cpu.Decoder;
import dev.jkvm.vmm.emulated.cpu.Insn;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 11 §5, decoder: instruction forms the project's assembler emits, decoded by the emulated
 * CPU's {@link Decoder} and by objdump. Forms come from every public instruction method of
 * {@link Assembler} (found by reflection, so new ones are covered without editing this test)
 * crossed with registers of every width, memory operands (base, index, scale, 8- and 32-bit
 * displacements), immediates, conditions, segment and control registers; combinations the
 * assembler refuses are skipped, the rest sampled (seeded) per method and mode.
 *
 * <p>Each form must decode to exactly its own length (ours and objdump's), be valid for both,
 * and carry the operands it was assembled with: the memory operand's base, index, scale and
 * displacement; the immediate; in register-register forms both register numbers. Forms our
 * decoder marks unimplemented are listed (not failed): issue 11 asks only for what kernels use.
 */
class AssemblerFormsDecodeTest {
    private static final int SAMPLES_PER_METHOD = 40;
    private static final long ORIGIN = 0x10_0000;
    /** Methods that are not one instruction (data, layout, prefixes, modes) or need labels. */
    private static final java.util.Set<String> NOT_INSTRUCTIONS = java.util.Set.of("bind", "label", "section", "setMode",
            "mode", "sections", "currentSection", "lock", "rep", "align", "reserve", "db", "dw", "dd", "dq", "ascii", "asciz");

    record Form(String method, String operands, byte[] bytes, Mem mem, Long imm, Integer count, Reg[] regs) {}

    @ParameterizedTest
    @EnumSource(Mode.class)
    void assemblerFormsDecodeToThemselves(Mode mode) throws Exception {
        assumeTrue(Objdump.available(), "objdump is needed");
        List<Form> forms = forms(mode);
        int decoderMode = mode == Mode.LONG64 ? Decoder.MODE64 : mode == Mode.PROTECTED32 ? Decoder.MODE32 : Decoder.MODE16;
        int bits = mode == Mode.LONG64 ? 64 : mode == Mode.PROTECTED32 ? 32 : 16;

        // One objdump run over all forms laid end to end.
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        List<Long> at = new ArrayList<>();
        for (Form f : forms) {
            at.add(ORIGIN + all.size());
            all.write(f.bytes);
        }
        Map<Long, Objdump.Line> objdump = new HashMap<>();
        for (Objdump.Line l : new Objdump().disassemble(all.toByteArray(), ORIGIN, bits)) objdump.put(l.address(), l);

        Map<String, String> handlerNames = handlerNames();
        List<String> failures = new ArrayList<>();
        Map<String, Integer> unimplemented = new TreeMap<>();
        Decoder decoder = new Decoder();
        Insn insn = new Insn();
        for (int i = 0; i < forms.size(); i++) {
            Form f = forms.get(i);
            String what = f.method + "(" + f.operands + ") = " + java.util.HexFormat.ofDelimiter(" ").formatHex(f.bytes);
            byte[] padded = Arrays.copyOf(f.bytes, 16);
            long address = at.get(i);
            decoder.decode(linear -> padded[(int) (linear - address)] & 0xFF, address, decoderMode, insn);
            Objdump.Line o = objdump.get(address);
            String handler = handlerNames.getOrDefault(Integer.toString(insn.handler), "#" + insn.handler);
            if (o == null || o.length() != f.bytes.length || o.text().contains("(bad)")) {
                failures.add(what + ": objdump decodes " + (o == null ? "nothing here" : o.length() + " bytes '" + o.text() + "'")
                        + " (an assembler encoding problem, not the decoder's)");
                continue;
            }
            if (handler.equals("UNIMPLEMENTED")) {
                unimplemented.merge(o.text().split(" ")[0], 1, Integer::sum);
                continue;
            }
            if (insn.length != f.bytes.length) {
                failures.add(what + ": our decoder says " + insn.length + " bytes, objdump '" + o.text() + "'");
                continue;
            }
            if ((handler.equals("UD") && !o.text().startsWith("ud")) || handler.equals("GP_LENGTH")) { // UD0/1/2 are #UD by definition
                failures.add(what + ": our decoder says " + handler + ", objdump '" + o.text() + "'");
                continue;
            }
            String operands = operandProblems(f, insn, bits);
            if (operands != null) failures.add(what + " ('" + o.text() + "'): " + operands);
        }
        String summary = mode + ": " + forms.size() + " assembler forms, " + failures.size() + " disagree"
                + (unimplemented.isEmpty() ? "" : "; unimplemented in the emulator (not failed): " + unimplemented)
                + (failures.isEmpty() ? "" : "\n  " + String.join("\n  ", failures.subList(0, Math.min(60, failures.size()))));
        System.out.println(summary);
        assertTrue(forms.size() > 1000, summary);
        assertTrue(failures.isEmpty(), summary);
    }

    /** Null when the decoded operands are the assembled ones, else what differs. */
    private static String operandProblems(Form f, Insn insn, int bits) {
        if (f.mem != null && f.mem.label() == null) {
            if (!insn.hasModrm || insn.mod == 3) {
                // Accumulator-offset forms (A0-A3 moffs) carry the address as an immediate-like field.
                return (insn.opcode & 0xFC) == 0xA0 ? null : "a memory operand decoded as none";
            }
            int base = f.mem.base() == null ? -1 : f.mem.base().code();
            int index = f.mem.indexReg() == null ? -1 : f.mem.indexReg().code();
            int scale = Integer.numberOfTrailingZeros(f.mem.scale());
            if (insn.base != base) return "base " + insn.base + ", assembled " + base;
            if (insn.index != index) return "index " + insn.index + ", assembled " + index;
            if (index >= 0 && insn.scale != scale) return "scale " + insn.scale + ", assembled " + scale;
            long mask = insn.addrSize == 2 ? 0xFFFF : insn.addrSize == 4 ? 0xFFFF_FFFFL : -1L;
            if (((insn.disp ^ f.mem.displacement()) & mask) != 0) return "disp " + Long.toHexString(insn.disp) + ", assembled " + Long.toHexString(f.mem.displacement());
        }
        if (f.imm != null) {
            int immBits = Math.min(32, 8 * Math.max(1, insn.size));
            long mask = (1L << immBits) - 1;
            if (((insn.imm ^ f.imm) & mask) != 0 && insn.imm != f.imm) {
                return "imm " + Long.toHexString(insn.imm) + ", assembled " + Long.toHexString(f.imm);
            }
        }
        if (f.method.equals("jmpFar") || f.method.equals("callFar")) {
            // ptr16:16/32 (EA/9A): offset in imm, selector in imm2.
            if (f.count != null && ((insn.imm2 ^ f.count) & 0xFFFF) != 0) return "selector " + insn.imm2 + ", assembled " + f.count;
            return null;
        }
        // An int argument is an immediate (shift count, bit number, vector, port, RET's imm16) except
        // nop's length; shifts by 1 (D0/D1) and INT3 (CC) carry none.
        boolean implicit = (f.count != null && f.count == 1 && insn.imm == 0) || (f.method.equals("intN") && f.count == 3);
        if (f.count != null && !f.method.equals("nop") && ((insn.imm ^ f.count) & 0xFF) != 0 && !implicit) {
            return "count/imm8 " + insn.imm + ", assembled " + f.count;
        }
        boolean implicitRegister = java.util.Set.of("rol", "ror", "rcl", "rcr", "shl", "shr", "sar", "in", "out").contains(f.method);
        if (f.regs.length == 2 && f.mem == null && insn.hasModrm && insn.mod == 3 && !implicitRegister) {
            java.util.Set<Integer> decoded = new java.util.HashSet<>(List.of(insn.reg, insn.rm));
            for (Reg r : f.regs) {
                if (!decoded.contains(r.code()) && !decoded.contains(r.code() & 7)) return "register " + r + " not in reg/rm (" + insn.reg + ", " + insn.rm + ")";
            }
        }
        return null;
    }

    /** Handler numbers to names, from the ISA side's package-private constants. */
    private static Map<String, String> handlerNames() throws Exception {
        Map<String, String> names = new HashMap<>();
        Class<?> h = Class.forName("dev.jkvm.vmm.emulated.cpu.Handler");
        for (var f : h.getDeclaredFields()) {
            if (f.getType() == int.class && Modifier.isStatic(f.getModifiers())) {
                f.setAccessible(true);
                names.putIfAbsent(Integer.toString(f.getInt(null)), f.getName());
            }
        }
        return names;
    }

    // ------------------------------------------------------------------ the forms

    private static List<Form> forms(Mode mode) throws Exception {
        Random rnd = new Random(mode.ordinal() * 7919L + 1);
        List<Form> out = new ArrayList<>();
        List<Method> methods = new ArrayList<>();
        for (Method m : Assembler.class.getMethods()) {
            if (m.getDeclaringClass() != Assembler.class || m.getReturnType() != Assembler.class) continue;
            if (NOT_INSTRUCTIONS.contains(m.getName())) continue;
            if (Arrays.stream(m.getParameterTypes()).allMatch(AssemblerFormsDecodeTest::supported)) methods.add(m);
        }
        methods.sort(java.util.Comparator.comparing(Method::toString));
        for (Method m : methods) {
            Class<?>[] types = m.getParameterTypes();
            int made = 0;
            for (int attempt = 0; attempt < SAMPLES_PER_METHOD * 25 && made < SAMPLES_PER_METHOD; attempt++) {
                Object[] args = new Object[types.length];
                for (int i = 0; i < types.length; i++) args[i] = value(types[i], mode, rnd);
                Assembler a = new Assembler(mode);
                try {
                    m.invoke(a, args);
                } catch (InvocationTargetException e) {
                    if (e.getCause() instanceof AsmException || e.getCause() instanceof IllegalArgumentException) {
                        if (types.length == 0) break;
                        continue;
                    }
                    throw e;
                }
                byte[] bytes = a.currentSection().linkAt(ORIGIN);
                if (bytes.length == 0) break;
                Mem mem = null;
                Long imm = null;
                Integer count = null;
                List<Reg> regs = new ArrayList<>();
                for (Object o : args) {
                    if (o instanceof Mem x) mem = x;
                    if (o instanceof Long x) imm = x;
                    if (o instanceof Integer x) count = x;
                    if (o instanceof Reg x) regs.add(x);
                }
                out.add(new Form(m.getName(), Arrays.toString(args), bytes, mem, imm, count, regs.toArray(new Reg[0])));
                made++;
                if (types.length == 0) break;
            }
        }
        return out;
    }

    private static boolean supported(Class<?> t) {
        return t == Reg.class || t == Mem.class || t == long.class || t == int.class || t == Cond.class || t == SegReg.class
                || t == CtrlReg.class;
    }

    private static final long[] IMMEDIATES = {0, 1, -1, 0x7F, -0x80, 0x80, 0x1234, -0x1234, 0x12345678, -0x7FFF_FFFFL, 0xFF};
    private static final int[] COUNTS = {0, 1, 2, 3, 7, 8, 15, 31, 63, 0x80, 0xFF};
    private static final long[] DISPLACEMENTS = {0, 8, 0x7F, -0x80, 0x1000, 0x12345678, -0x10};

    private static Object value(Class<?> t, Mode mode, Random rnd) {
        if (t == Reg.class) return Reg.values()[rnd.nextInt(Reg.values().length)];
        if (t == long.class) return IMMEDIATES[rnd.nextInt(IMMEDIATES.length)];
        if (t == int.class) return COUNTS[rnd.nextInt(COUNTS.length)];
        if (t == Cond.class) return Cond.values()[rnd.nextInt(16)];
        if (t == SegReg.class) return SegReg.values()[rnd.nextInt(SegReg.values().length)];
        if (t == CtrlReg.class) return CtrlReg.values()[rnd.nextInt(CtrlReg.values().length)];
        // Memory: base of the mode's address width (32-bit registers in 16-bit code get a 67 prefix).
        int addressBits = mode == Mode.LONG64 ? 64 : 32;
        Reg base = null;
        while (base == null || base.bits() != addressBits || (addressBits == 32 && base.code() >= 8)) {
            base = Reg.values()[rnd.nextInt(Reg.values().length)];
        }
        Mem m = rnd.nextInt(8) == 0 ? Mem.abs(0x1000 + rnd.nextInt(0x1000)) : Mem.at(base, DISPLACEMENTS[rnd.nextInt(DISPLACEMENTS.length)]);
        if (m.base() != null && rnd.nextBoolean()) {
            Reg index = RandomProgram.sized(base, addressBits);
            while (index.code() == 4 || index.bits() != addressBits || (addressBits == 32 && index.code() >= 8)) {
                index = Reg.values()[rnd.nextInt(Reg.values().length)];
            }
            m = m.index(index, 1 << rnd.nextInt(4));
        }
        int[] sizes = {8, 16, 32, 64};
        return m.size(sizes[rnd.nextInt(sizes.length)]);
    }
}
