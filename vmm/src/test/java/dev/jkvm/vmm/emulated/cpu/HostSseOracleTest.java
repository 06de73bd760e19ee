package dev.jkvm.vmm.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * Register forms of the SSE/SSE2 moves and integer operations the executor implements, with
 * random XMM and general-register contents, on the emulator and natively on the host processor:
 * XMM0..XMM7 and the general registers must agree exactly (these operations define every bit).
 */
class HostSseOracleTest {
    private static final int CASES = 60;
    /** Operand kinds: both XMM; reg = general register, rm = XMM; reg = XMM, rm = general register. */
    private static final int XX = 0, GX = 1, XG = 2;

    private record Form(int prefix, String opcode, int kind, int regField, boolean imm, boolean rexW) {
    }

    private static final List<Form> FORMS = new ArrayList<>();

    private static void xx(int prefix, String ops) {
        for (String op : ops.split(" ")) FORMS.add(new Form(prefix, op, XX, -1, false, false));
    }

    static {
        xx(0x66, "60 61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 74 75 76 d1 d2 d3 d4 d5 d8 d9 da db dc dd de df e0 e1 e2 e3 e4 e5"
                + " e8 e9 ea eb ec ed ee ef f1 f2 f3 f4 f5 f6 f8 f9 fa fb fc fd fe 14 15 54 55 56 57 6f 7f d6 28 29 10 11");
        xx(0, "14 15 54 55 56 57 28 29 10 11 12 16");
        xx(0xF3, "10 11 6f 7f 7e");
        xx(0xF2, "10 11");
        for (int p : new int[] {0, 0x66}) FORMS.add(new Form(p, "c6", XX, -1, true, false));
        for (int p : new int[] {0x66, 0xF3, 0xF2}) FORMS.add(new Form(p, "70", XX, -1, true, false));
        for (String g : new String[] {"71/2", "71/4", "71/6", "72/2", "72/4", "72/6", "73/2", "73/3", "73/6", "73/7"}) {
            FORMS.add(new Form(0x66, g.substring(0, 2), XX, g.charAt(3) - '0', true, false));
        }
        FORMS.add(new Form(0x66, "d7", GX, -1, false, false));
        FORMS.add(new Form(0, "50", GX, -1, false, false));
        FORMS.add(new Form(0x66, "50", GX, -1, false, false));
        FORMS.add(new Form(0x66, "c5", GX, -1, true, false));
        FORMS.add(new Form(0x66, "6e", XG, -1, false, false));
        FORMS.add(new Form(0x66, "6e", XG, -1, false, true));
        FORMS.add(new Form(0x66, "c4", XG, -1, true, false));
        FORMS.add(new Form(0x66, "7e", XG, -1, false, false)); // movd r/m32, xmm: rm is the general register
        FORMS.add(new Form(0x66, "7e", XG, -1, false, true));
    }

    private static final int[] GPRS = {0, 1, 2, 3, 6, 7};

    private static long value(Random rnd) {
        return switch (rnd.nextInt(5)) {
            case 0 -> 0;
            case 1 -> -1;
            case 2 -> 0x8000_8000_8000_8000L ^ rnd.nextLong() & 0x00FF_00FF_00FF_00FFL;
            default -> rnd.nextLong();
        };
    }

    @Test
    void sseRegisterFormsAgreeWithTheHostProcessor() {
        assumeTrue(System.getProperty("os.arch").equals("amd64"), "needs an x86-64 host");
        Random rnd = new Random(5);
        IsaMachine m = new IsaMachine(Decoder.MODE64);
        HexFormat hex = HexFormat.of();
        List<String> failures = new ArrayList<>();
        int run = 0;
        try (HostCpu host = new HostCpu()) {
            for (Form f : FORMS) {
                for (int n = 0; n < CASES; n++) {
                    int reg = f.kind == GX ? GPRS[rnd.nextInt(GPRS.length)] : rnd.nextInt(8);
                    int rm = f.kind == XG ? GPRS[rnd.nextInt(GPRS.length)] : rnd.nextInt(8);
                    if (f.regField >= 0) reg = f.regField;
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    if (f.prefix != 0) out.write(f.prefix);
                    if (f.rexW) out.write(0x48);
                    out.write(0x0F);
                    out.write(Integer.parseInt(f.opcode, 16));
                    out.write(0xC0 | reg << 3 | rm);
                    if (f.imm) out.write(rnd.nextInt(4) == 0 ? rnd.nextInt(20) : rnd.nextInt(256));
                    byte[] insn = out.toByteArray();
                    long[] regs = new long[16];
                    for (int r : HostCpu.REGISTERS) regs[r] = value(rnd);
                    long[] xmm = new long[16];
                    for (int i = 0; i < 16; i++) xmm[i] = value(rnd);
                    if (rnd.nextBoolean()) { // small shift counts in the source operand
                        xmm[2 * rm] = rnd.nextInt(70);
                        xmm[2 * rm + 1] = 0;
                    }
                    long[] hostRegs = regs.clone();
                    long[] hostXmm = xmm.clone();
                    host.run(insn, hostRegs, 0x202, hostXmm);

                    for (int r = 0; r < 16; r++) m.s.gpr[r] = regs[r];
                    m.s.gpr[CpuState.RSP] = IsaMachine.STACK;
                    System.arraycopy(xmm, 0, m.s.xmm, 0, 16);
                    String problem = null;
                    try {
                        m.run(hex.formatHex(insn));
                        StringBuilder b = new StringBuilder();
                        for (int r : HostCpu.REGISTERS) {
                            if (hostRegs[r] != m.s.gpr[r]) b.append(" r").append(r).append(" host ").append(Long.toHexString(hostRegs[r]))
                                    .append(" emulated ").append(Long.toHexString(m.s.gpr[r]));
                        }
                        for (int i = 0; i < 16; i++) {
                            if (hostXmm[i] != m.s.xmm[i]) b.append(" xmm").append(i / 2).append(i % 2 == 0 ? ".lo" : ".hi").append(" host ")
                                    .append(Long.toHexString(hostXmm[i])).append(" emulated ").append(Long.toHexString(m.s.xmm[i]));
                        }
                        if (!b.isEmpty()) problem = b.toString();
                    } catch (CpuException e) {
                        problem = "emulator raised vector " + e.vector;
                    }
                    run++;
                    if (problem != null && failures.size() < 40) {
                        failures.add("[" + hex.formatHex(insn) + "] xmm" + rm + "=" + Long.toHexString(xmm[2 * rm + 1]) + ":"
                                + Long.toHexString(xmm[2 * rm]) + " xmm" + reg + "=" + Long.toHexString(xmm[2 * reg + 1]) + ":"
                                + Long.toHexString(xmm[2 * reg]) + ":" + problem);
                    }
                }
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " disagreements of " + run + ":\n" + String.join("\n", failures));
        assertTrue(run > 5000, "cases run: " + run);
    }
}
