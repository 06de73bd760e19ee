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
 * SSE/SSE2 floating-point register forms (arithmetic, MIN/MAX, SQRT, CMPcc, COMIS/UCOMIS and every
 * conversion) on the emulator and natively on the host processor, with operands drawn to hit the
 * corners (NaNs quiet and signalling with payloads, infinities, zeros of both signs, denormals,
 * values near overflow, underflow and the integer limits, cancelling pairs) and a random MXCSR:
 * all four rounding modes, DAZ, FZ and stale flags, every exception masked (an unmasked one would
 * be SIGFPE in the JVM). XMM0..7, the general registers, the arithmetic flags and MXCSR must agree.
 */
class HostSseFloatOracleTest {
    private static final int CASES = Integer.getInteger("ssefloat.cases", 400);
    private static final int XX = 0, GX = 1, XG = 2;

    private record Form(int prefix, int opcode, int kind, boolean imm, boolean rexW) {
    }

    private static final List<Form> FORMS = new ArrayList<>();

    static {
        for (int p : new int[] {0, 0x66, 0xF3, 0xF2}) {
            for (int op : new int[] {0x51, 0x58, 0x59, 0x5C, 0x5D, 0x5E, 0x5F, 0x5A}) FORMS.add(new Form(p, op, XX, false, false));
            FORMS.add(new Form(p, 0xC2, XX, true, false));
        }
        for (int p : new int[] {0, 0x66, 0xF3}) FORMS.add(new Form(p, 0x5B, XX, false, false));
        for (int p : new int[] {0x66, 0xF3, 0xF2}) FORMS.add(new Form(p, 0xE6, XX, false, false));
        for (int p : new int[] {0, 0x66}) {
            FORMS.add(new Form(p, 0x2E, XX, false, false));
            FORMS.add(new Form(p, 0x2F, XX, false, false));
        }
        for (int p : new int[] {0xF3, 0xF2}) {
            for (boolean w : new boolean[] {false, true}) {
                FORMS.add(new Form(p, 0x2A, XG, false, w));
                FORMS.add(new Form(p, 0x2C, GX, false, w));
                FORMS.add(new Form(p, 0x2D, GX, false, w));
            }
        }
    }

    private static final int[] GPRS = {0, 1, 2, 3, 6, 7};

    /** A double (as bits) from the corners of the format. */
    static long dbl(Random rnd) {
        long sign = rnd.nextBoolean() ? Long.MIN_VALUE : 0;
        long frac = rnd.nextLong() & 0x000F_FFFF_FFFF_FFFFL;
        return sign | switch (rnd.nextInt(14)) {
            case 0 -> 0;
            case 1 -> 0x7FF0_0000_0000_0000L;
            case 2 -> 0x7FF8_0000_0000_0000L | frac >>> rnd.nextInt(52);             // QNaN
            case 3 -> 0x7FF0_0000_0000_0000L | Math.max(1, frac >>> 1 >>> rnd.nextInt(52)); // SNaN
            case 4 -> frac >>> rnd.nextInt(52);                                       // denormal (or zero)
            case 5 -> (long) (0x7FD + rnd.nextInt(2)) << 52 | frac;                   // near overflow
            case 6 -> (long) (1 + rnd.nextInt(3)) << 52 | frac;                       // near underflow
            case 7 -> (long) (1023 + rnd.nextInt(64)) << 52 | frac & ~((1L << rnd.nextInt(53)) - 1); // integers, halves
            case 8 -> (long) (1023 + 29 + rnd.nextInt(36)) << 52 | (rnd.nextBoolean() ? 0 : frac); // near 2^31, 2^63
            case 9 -> (long) (1023 - 30 + rnd.nextInt(60)) << 52 | frac & -rnd.nextInt(1 << 20); // short significands
            case 10 -> 0x3FF0_0000_0000_0000L | frac;
            default -> rnd.nextLong() & 0x7FFF_FFFF_FFFF_FFFFL;
        };
    }

    static int flt(Random rnd) {
        int sign = rnd.nextBoolean() ? 0x8000_0000 : 0;
        int frac = rnd.nextInt() & 0x007F_FFFF;
        return sign | switch (rnd.nextInt(14)) {
            case 0 -> 0;
            case 1 -> 0x7F80_0000;
            case 2 -> 0x7FC0_0000 | frac >>> rnd.nextInt(23);
            case 3 -> 0x7F80_0000 | Math.max(1, frac >>> 1 >>> rnd.nextInt(23));
            case 4 -> frac >>> rnd.nextInt(23);
            case 5 -> (0xFD + rnd.nextInt(2)) << 23 | frac;
            case 6 -> (1 + rnd.nextInt(3)) << 23 | frac;
            case 7 -> (127 + rnd.nextInt(40)) << 23 | frac & ~((1 << rnd.nextInt(24)) - 1);
            case 8 -> (127 + 29 + rnd.nextInt(36)) << 23 | (rnd.nextBoolean() ? 0 : frac);
            case 9 -> (127 - 30 + rnd.nextInt(60)) << 23 | frac & -rnd.nextInt(1 << 8);
            case 10 -> 0x3F80_0000 | frac;
            default -> rnd.nextInt() & 0x7FFF_FFFF;
        };
    }

    private static long lane(Random rnd, long other, boolean wantDouble) {
        if (wantDouble) {
            // Sometimes a value close to the other operand (or its negation): cancellation, equality.
            if (rnd.nextInt(6) == 0) {
                long o = other ^ (rnd.nextBoolean() ? Long.MIN_VALUE : 0);
                return rnd.nextBoolean() ? o : o + rnd.nextInt(7) - 3;
            }
            return dbl(rnd);
        }
        long lo = rnd.nextInt(6) == 0 ? (other & 0xFFFF_FFFFL) + rnd.nextInt(3) - 1 : flt(rnd);
        long hi = rnd.nextInt(6) == 0 ? (other >>> 32) ^ 0x8000_0000L : flt(rnd);
        return (lo & 0xFFFF_FFFFL) | hi << 32;
    }

    private static long gpr(Random rnd) {
        return switch (rnd.nextInt(4)) {
            case 0 -> rnd.nextLong() >> rnd.nextInt(64);
            case 1 -> (1L << rnd.nextInt(64)) + rnd.nextInt(5) - 2;
            default -> rnd.nextLong();
        };
    }

    private static final String HEX = "0123456789abcdef";

    /** Directed: MIN/MAX/CMP with denormal operands under DAZ (which value comes back: the operand or its flushed zero). */
    @Test
    void minMaxWithDenormalsUnderDaz() {
        assumeTrue(System.getProperty("os.arch").equals("amd64"), "needs an x86-64 host");
        long[] values = {0, Long.MIN_VALUE, 0x4babb61cd8L, 0x8000_004b_abb6_1cd8L, 0x3FF0_0000_0000_0000L, 0xBFF0_0000_0000_0000L, 0x7FF8_0000_0000_0001L};
        List<String> failures = new ArrayList<>();
        int run = 0;
        try (HostCpu host = new HostCpu()) {
            for (int opcode : new int[] {0x5D, 0x5F}) {
                for (int prefix : new int[] {0x66, 0xF2, 0, 0xF3}) {
                    for (long a : values) {
                        for (long b : values) {
                            for (int mxcsr : new int[] {0x1F80, 0x1FC0, 0x9FC0}) {
                                long fa = prefix == 0 || prefix == 0xF3 ? (a >>> 32) * 0x1_0000_0001L : a;
                                long fb = prefix == 0 || prefix == 0xF3 ? (b >>> 32 | b & 0xFFFF) * 0x1_0000_0001L : b;
                                String p = compare(host, new Form(prefix, opcode, XX, false, false), new byte[] {(byte) 0xC1}, 0, 1,
                                        new long[16], new long[] {fa, fa, fb, fb, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, mxcsr, 0x202);
                                run++;
                                if (p != null) failures.add(Long.toHexString(fa) + " " + Long.toHexString(fb) + " " + p);
                            }
                        }
                    }
                }
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " disagreements of " + run + ":\n" + String.join("\n", failures));
    }

    /**
     * Directed: products whose exact value lies just below the smallest normal, where tininess
     * before and after rounding differ (SDM Vol. 1 §4.9.1.5): UE, PE and the result must match the host.
     */
    @Test
    void productsAtTheUnderflowBoundary() {
        assumeTrue(System.getProperty("os.arch").equals("amd64"), "needs an x86-64 host");
        Random rnd = new Random(3);
        List<String> failures = new ArrayList<>();
        int run = 0;
        try (HostCpu host = new HostCpu()) {
            for (boolean dbl : new boolean[] {true, false}) {
                java.math.BigDecimal min = new java.math.BigDecimal(dbl ? Double.MIN_NORMAL : Float.MIN_NORMAL);
                java.math.BigDecimal low = min.multiply(java.math.BigDecimal.ONE.subtract(java.math.BigDecimal.valueOf(2).pow(dbl ? -54 : -25,
                        java.math.MathContext.DECIMAL128)));
                int found = 0;
                for (int tries = 0; tries < 1_000_000 && found < 150; tries++) {
                    long a, b;
                    if (dbl) {
                        a = 0x3FEF_FFFF_FFFF_FFFFL - rnd.nextInt(1 << 12);
                        b = 0x0010_0000_0000_0000L + rnd.nextInt(1 << 12);
                    } else {
                        a = 0x3F7F_FFFFL - rnd.nextInt(1 << 6);
                        b = 0x0080_0000L + rnd.nextInt(1 << 6);
                    }
                    java.math.BigDecimal exact = dbl
                            ? new java.math.BigDecimal(Double.longBitsToDouble(a)).multiply(new java.math.BigDecimal(Double.longBitsToDouble(b)))
                            : new java.math.BigDecimal(Float.intBitsToFloat((int) a)).multiply(new java.math.BigDecimal(Float.intBitsToFloat((int) b)));
                    boolean boundary = exact.compareTo(min) < 0 && exact.compareTo(low) > 0;
                    if (!boundary && rnd.nextInt(50) != 0) continue;
                    found += boundary ? 1 : 0;
                    for (int rc = 0; rc < 4; rc++) {
                        for (int mxcsr : new int[] {0x1F80 | rc << 13, 0x9F80 | rc << 13}) {
                            String p = compare(host, new Form(dbl ? 0xF2 : 0xF3, 0x59, XX, false, false), new byte[] {(byte) 0xC1}, 0, 1,
                                    new long[16], new long[] {a, 0, b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, mxcsr, 0x202);
                            run++;
                            if (p != null && failures.size() < 20) failures.add(Long.toHexString(a) + " * " + Long.toHexString(b) + p);
                        }
                    }
                }
                assertTrue(found >= 50, "boundary products found: " + found);
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " disagreements of " + run + ":\n" + String.join("\n", failures));
    }

    private static final IsaMachine DIRECTED = new IsaMachine(Decoder.MODE64);

    /** Runs the form (ModRM byte given) on both; null when registers, flags and MXCSR agree. */
    private static String compare(HostCpu host, Form f, byte[] modrm, int reg, int rm, long[] regs, long[] xmm, int mxcsr, long flags) {
        HexFormat hex = HexFormat.of();
        ByteArrayOutputStream ins = new ByteArrayOutputStream();
        if (f.prefix != 0) ins.write(f.prefix);
        if (f.rexW) ins.write(0x48);
        ins.write(0x0F);
        ins.write(f.opcode);
        ins.writeBytes(modrm);
        byte[] insn = ins.toByteArray();
        ByteArrayOutputStream seq = new ByteArrayOutputStream();
        seq.writeBytes(hex.parseHex("410fae9f0c020000410fae9700020000"));
        seq.writeBytes(insn);
        seq.writeBytes(hex.parseHex("410fae9f04020000410fae970c020000"));
        byte[] data = new byte[HostCpu.DATA_SIZE];
        for (int i = 0; i < 4; i++) data[i] = (byte) (mxcsr >>> 8 * i);
        host.setData(data);
        long[] hostRegs = regs.clone();
        long[] hostXmm = xmm.clone();
        long hostFlags = host.run(seq.toByteArray(), hostRegs, flags, hostXmm);
        byte[] out = host.data();
        int hostMxcsr = out[4] & 0xFF | (out[5] & 0xFF) << 8 | (out[6] & 0xFF) << 16 | (out[7] & 0xFF) << 24;
        IsaMachine m = DIRECTED;
        for (int r = 0; r < 16; r++) m.s.gpr[r] = regs[r];
        m.s.gpr[CpuState.RSP] = IsaMachine.STACK;
        System.arraycopy(xmm, 0, m.s.xmm, 0, 16);
        m.s.mxcsr = mxcsr;
        Flags.set(m.s, flags);
        m.run(hex.formatHex(insn));
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            if (hostXmm[i] != m.s.xmm[i]) b.append(" xmm").append(i / 2).append(i % 2 == 0 ? ".lo" : ".hi").append(" host ")
                    .append(Long.toHexString(hostXmm[i])).append(" emulated ").append(Long.toHexString(m.s.xmm[i]));
        }
        if (hostMxcsr != m.s.mxcsr) b.append(" mxcsr host ").append(Integer.toHexString(hostMxcsr)).append(" emulated ").append(Integer.toHexString(m.s.mxcsr));
        if (((hostFlags ^ Flags.get(m.s)) & Flags.ARITH) != 0) b.append(" flags");
        return b.isEmpty() ? null : "[" + hex.formatHex(insn) + "] mxcsr=" + Integer.toHexString(mxcsr) + b;
    }

    @Test
    void floatingPointFormsAgreeWithTheHostProcessor() {
        assumeTrue(System.getProperty("os.arch").equals("amd64"), "needs an x86-64 host");
        Random rnd = new Random(11);
        IsaMachine m = new IsaMachine(Decoder.MODE64);
        HexFormat hex = HexFormat.of();
        List<String> failures = new ArrayList<>();
        int run = 0;
        // stmxcsr [r15+524]; ldmxcsr [r15+512]; <insn>; stmxcsr [r15+516]; ldmxcsr [r15+524] (r15 = state block).
        byte[] save = hex.parseHex("410fae9f0c020000"), load = hex.parseHex("410fae9700020000");
        byte[] store = hex.parseHex("410fae9f04020000"), restore = hex.parseHex("410fae970c020000");
        try (HostCpu host = new HostCpu()) {
            for (Form f : FORMS) {
                boolean dblLanes = f.opcode == 0xE6 ? f.prefix != 0xF3 : f.opcode == 0x5B ? false
                        : f.opcode == 0x5A ? (f.prefix == 0x66 || f.prefix == 0xF2) : (f.prefix == 0x66 || f.prefix == 0xF2);
                boolean integerLanes = f.opcode == 0x5B && f.prefix == 0 || f.opcode == 0xE6 && f.prefix == 0xF3;
                for (int n = 0; n < CASES; n++) {
                    int reg = f.kind == GX ? GPRS[rnd.nextInt(GPRS.length)] : rnd.nextInt(8);
                    int rm = f.kind == XG ? GPRS[rnd.nextInt(GPRS.length)] : rnd.nextInt(8);
                    ByteArrayOutputStream ins = new ByteArrayOutputStream();
                    if (f.prefix != 0) ins.write(f.prefix);
                    if (f.rexW) ins.write(0x48);
                    ins.write(0x0F);
                    ins.write(f.opcode);
                    ins.write(0xC0 | reg << 3 | rm);
                    if (f.imm) ins.write(rnd.nextInt(4) == 0 ? rnd.nextInt(256) : rnd.nextInt(8)); // CMPcc: legacy SSE uses imm8[2:0]
                    byte[] insn = ins.toByteArray();
                    ByteArrayOutputStream seq = new ByteArrayOutputStream();
                    seq.writeBytes(save);
                    seq.writeBytes(load);
                    seq.writeBytes(insn);
                    seq.writeBytes(store);
                    seq.writeBytes(restore);

                    long[] regs = new long[16];
                    for (int r : HostCpu.REGISTERS) regs[r] = gpr(rnd);
                    long[] xmm = new long[16];
                    for (int i = 0; i < 16; i++) xmm[i] = integerLanes ? gpr(rnd) : lane(rnd, i >= 2 ? xmm[i - 2] : 0, dblLanes);
                    if (rnd.nextBoolean() && !integerLanes) { // the two operands related
                        xmm[2 * rm] = lane(rnd, xmm[2 * reg], dblLanes);
                        xmm[2 * rm + 1] = lane(rnd, xmm[2 * reg + 1], dblLanes);
                    }
                    int mxcsr = 0x1F80 | rnd.nextInt(4) << 13 | (rnd.nextInt(4) == 0 ? 0x40 : 0) | (rnd.nextInt(4) == 0 ? 0x8000 : 0)
                            | (rnd.nextInt(4) == 0 ? rnd.nextInt(64) : 0);
                    long flags = 0x202 | (rnd.nextLong() & Flags.ARITH);
                    byte[] data = new byte[HostCpu.DATA_SIZE];
                    for (int i = 0; i < 4; i++) data[i] = (byte) (mxcsr >>> 8 * i);
                    host.setData(data);
                    long[] hostRegs = regs.clone();
                    long[] hostXmm = xmm.clone();
                    long hostFlags = host.run(seq.toByteArray(), hostRegs, flags, hostXmm);
                    byte[] out = host.data();
                    int hostMxcsr = out[4] & 0xFF | (out[5] & 0xFF) << 8 | (out[6] & 0xFF) << 16 | (out[7] & 0xFF) << 24;

                    for (int r = 0; r < 16; r++) m.s.gpr[r] = regs[r];
                    m.s.gpr[CpuState.RSP] = IsaMachine.STACK;
                    System.arraycopy(xmm, 0, m.s.xmm, 0, 16);
                    m.s.mxcsr = mxcsr;
                    Flags.set(m.s, flags);
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
                        if (hostMxcsr != m.s.mxcsr) b.append(" mxcsr host ").append(Integer.toHexString(hostMxcsr)).append(" emulated ")
                                .append(Integer.toHexString(m.s.mxcsr));
                        long ours = Flags.get(m.s);
                        if (((hostFlags ^ ours) & Flags.ARITH) != 0) b.append(" flags host ").append(Long.toHexString(hostFlags & Flags.ARITH))
                                .append(" emulated ").append(Long.toHexString(ours & Flags.ARITH));
                        if (!b.isEmpty()) problem = b.toString();
                    } catch (CpuException e) {
                        problem = "emulator raised vector " + e.vector;
                    }
                    run++;
                    if (problem != null && failures.size() < 60) {
                        failures.add("[" + hex.formatHex(insn) + "] mxcsr=" + Integer.toHexString(mxcsr) + " src xmm" + rm + "="
                                + Long.toHexString(xmm[2 * rm + 1]) + ":" + Long.toHexString(xmm[2 * rm]) + " dst xmm" + reg + "="
                                + Long.toHexString(xmm[2 * reg + 1]) + ":" + Long.toHexString(xmm[2 * reg]) + " r" + rm + "="
                                + Long.toHexString(regs[rm]) + ":" + problem);
                    }
                }
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " disagreements of " + run + ":\n" + String.join("\n", failures));
        assertTrue(run > 10000, "cases run: " + run);
    }
}
