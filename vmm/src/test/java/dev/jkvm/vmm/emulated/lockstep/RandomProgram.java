package dev.jkvm.vmm.emulated.lockstep;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.AsmException;
import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Cond;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.Reg;
import java.util.Random;

/**
 * Random straight-line 64-bit programs over the integer instruction set, assembled with the
 * project's assembler (raw bytes only for forms it lacks: BSF/BSR/TZCNT/LZCNT/POPCNT, SHLD/SHRD,
 * CMPS/SCAS, REPNE, CMC, LAHF/SAHF): ALU in every width and operand form, shifts and rotates by 1,
 * by an immediate and by CL, MUL/IMUL/DIV/IDIV (dividends and divisors guarded so #DE cannot
 * happen: the host kernel has no IDT), BT, BTS, BTR, BTC, bit scans, string instructions with and without
 * REP/REPE/REPNE over a data buffer and both directions, and flag readers (ADC/SBB/SETcc/CMOVcc/
 * forward Jcc/PUSHF/LAHF).
 *
 * <p>Register conventions in 64-bit code: R15 holds the data buffer's address and R14 a small
 * index (0..15); neither is ever written, so every memory operand stays inside the buffer. In
 * 32-bit and 16-bit code EBP/BP holds the buffer's address (offset) and is never written. RSP/ESP/SP
 * is the stack. 32- and 16-bit programs use no SSE and no REX registers.
 */
final class RandomProgram {
    /** Registers random instructions may read and write. */
    static final Reg[] POOL = {RAX, RBX, RCX, RDX, RSI, RDI, RBP, R8, R9, R10, R11, R12, R13};
    private static final Reg[] LEGACY8 = {AL, CL, DL, BL, AH, CH, DH, BH};
    /** Bytes of the buffer random memory operands may touch (string operations use 512..1400). */
    static final int SPAN = 2048;

    private static final Reg[] POOL32 = {EAX, EBX, ECX, EDX, ESI, EDI};
    private static final Reg[] POOL16 = {AX, BX, CX, DX, SI, DI};

    private final Random rnd;
    private final Mode mode;
    private final Assembler a;
    /** Native register width: 64, 32 or 16. */
    private final int bits;
    private final Reg[] pool;
    private int count;

    private RandomProgram(Random rnd, Mode mode) {
        this.rnd = rnd;
        this.mode = mode;
        this.a = new Assembler(mode);
        this.bits = mode == Mode.LONG64 ? 64 : mode == Mode.PROTECTED32 ? 32 : 16;
        this.pool = mode == Mode.LONG64 ? POOL : mode == Mode.PROTECTED32 ? POOL32 : POOL16;
    }

    /** A program of about {@code length} instructions, linked at {@code address}. */
    static byte[] generate(Random rnd, int length, long address) {
        return generate(rnd, length, address, false);
    }

    /**
     * With {@code observeFlags} a PUSHF follows every generated instruction group, so the flags
     * each one produced end up on the stack, where a comparison of the final state sees them even
     * when a later instruction overwrote RFLAGS.
     */
    static byte[] generate(Random rnd, int length, long address, boolean observeFlags) {
        return generate(rnd, length, address, observeFlags, Mode.LONG64);
    }

    /** As {@link #generate(Random, int, long, boolean)} for code of {@code mode}. */
    static byte[] generate(Random rnd, int length, long address, boolean observeFlags, Mode mode) {
        return generate(rnd, length, address, observeFlags, mode, 0);
    }

    /**
     * As {@link #generate(Random, int, long, boolean, Mode)} with {@code floatPercent} percent of the
     * instructions (64-bit code only) SSE/SSE2 floating point or an LDMXCSR of a random rounding
     * mode, DAZ and FZ (exceptions stay masked).
     */
    static byte[] generate(Random rnd, int length, long address, boolean observeFlags, Mode mode, int floatPercent) {
        RandomProgram p = new RandomProgram(rnd, mode);
        p.observeFlags = observeFlags;
        p.floatPercent = floatPercent;
        while (p.count < length) p.one(true);
        return p.a.currentSection().linkAt(address);
    }

    private boolean observeFlags;
    private int floatPercent;

    private void one(boolean allowJump) {
        try {
            int kind = rnd.nextInt(100);
            if (floatPercent > 0 && bits == 64 && rnd.nextInt(100) < floatPercent) floatOrMxcsr();
            else if (kind < 22) alu();
            else if (kind < 27) unary();
            else if (kind < 38) shift();
            else if (kind < 45) multiply();
            else if (kind < 50) divide();
            else if (kind < 57) bits();
            else if (kind < 64) string();
            else if (kind < 74) flagReader(allowJump);
            else if (kind < 82) move();
            else if (kind < 87) exchange();
            else if (kind < 89) stack();
            else if (kind < 91) controlAndFrames();
            else if (kind < 94) flagWriter();
            else if (kind < 96 || bits != 64) legacyHighBytes();
            else sse();
        } catch (AsmException e) {
            // A combination the assembler refuses (documented restrictions): draw another.
            return;
        }
        if (observeFlags) a.pushf();
        count++;
    }

    // ------------------------------------------------------------------ operands

    private Reg reg(int width) {
        return sized(pool[rnd.nextInt(pool.length)], width);
    }

    /** The native-width register of the same number as {@code r} (stack operations). */
    private Reg nativeReg() {
        return pool[rnd.nextInt(pool.length)];
    }

    static Reg sized(Reg r, int bits) {
        for (Reg x : Reg.values()) if (x.code() == r.code() && x.bits() == bits && !x.isHighByte()) return x;
        throw new IllegalArgumentException(r + "/" + bits);
    }

    private int width() {
        return bits == 64 ? new int[] {8, 16, 32, 64, 64, 32}[rnd.nextInt(6)] : new int[] {8, 16, 32, 16, 32}[rnd.nextInt(5)];
    }

    private int widthAtLeast16() {
        return bits == 64 ? new int[] {16, 32, 64, 64, 32}[rnd.nextInt(5)] : new int[] {16, 32}[rnd.nextInt(2)];
    }

    /** The register holding the buffer's address. */
    private Reg bufferBase() {
        return bits == 64 ? R15 : bits == 32 ? EBP : BP;
    }

    private Mem mem(int width) {
        int disp = rnd.nextInt(SPAN - 8 - 16 * 8);
        Mem m = Mem.at(bufferBase(), disp);
        if (bits == 64 && rnd.nextInt(3) == 0) m = m.index(R14, 1 << rnd.nextInt(4));
        return m.size(width);
    }

    private long imm(int bits) {
        return switch (bits) {
            case 8 -> rnd.nextInt(256) - 128;
            case 16 -> rnd.nextInt(65536) - 32768;
            default -> rnd.nextInt(4) == 0 ? rnd.nextInt(256) - 128 : rnd.nextInt();
        };
    }

    private Cond cond() {
        return Cond.values()[rnd.nextInt(16)];
    }

    // ------------------------------------------------------------------ groups

    private void alu() {
        int bits = width();
        Reg d = reg(bits), s = reg(bits);
        Mem m = mem(bits);
        int op = rnd.nextInt(9);
        switch (rnd.nextInt(5)) {
            case 0 -> alu(op, d, s);
            case 1 -> aluImm(op, d, imm(bits));
            case 2 -> aluRm(op, d, m);
            case 3 -> aluMr(op, m, s);
            default -> aluMi(op, m, imm(bits));
        }
    }

    private void alu(int op, Reg d, Reg s) {
        switch (op) {
            case 0 -> a.add(d, s);
            case 1 -> a.or(d, s);
            case 2 -> a.adc(d, s);
            case 3 -> a.sbb(d, s);
            case 4 -> a.and(d, s);
            case 5 -> a.sub(d, s);
            case 6 -> a.xor(d, s);
            case 7 -> a.cmp(d, s);
            default -> a.test(d, s);
        }
    }

    private void aluImm(int op, Reg d, long i) {
        switch (op) {
            case 0 -> a.add(d, i);
            case 1 -> a.or(d, i);
            case 2 -> a.adc(d, i);
            case 3 -> a.sbb(d, i);
            case 4 -> a.and(d, i);
            case 5 -> a.sub(d, i);
            case 6 -> a.xor(d, i);
            case 7 -> a.cmp(d, i);
            default -> a.test(d, i);
        }
    }

    private void aluRm(int op, Reg d, Mem m) {
        switch (op) {
            case 0 -> a.add(d, m);
            case 1 -> a.or(d, m);
            case 2 -> a.adc(d, m);
            case 3 -> a.sbb(d, m);
            case 4 -> a.and(d, m);
            case 5 -> a.sub(d, m);
            case 6 -> a.xor(d, m);
            case 7 -> a.cmp(d, m);
            default -> a.test(d, m);
        }
    }

    private void aluMr(int op, Mem m, Reg s) {
        boolean lock = op != 7 && op != 8 && rnd.nextInt(4) == 0;
        if (lock) a.lock();
        switch (op) {
            case 0 -> a.add(m, s);
            case 1 -> a.or(m, s);
            case 2 -> a.adc(m, s);
            case 3 -> a.sbb(m, s);
            case 4 -> a.and(m, s);
            case 5 -> a.sub(m, s);
            case 6 -> a.xor(m, s);
            case 7 -> a.cmp(m, s);
            default -> a.test(m, s);
        }
    }

    private void aluMi(int op, Mem m, long i) {
        boolean lock = op != 7 && op != 8 && rnd.nextInt(4) == 0;
        if (lock) a.lock();
        switch (op) {
            case 0 -> a.add(m, i);
            case 1 -> a.or(m, i);
            case 2 -> a.adc(m, i);
            case 3 -> a.sbb(m, i);
            case 4 -> a.and(m, i);
            case 5 -> a.sub(m, i);
            case 6 -> a.xor(m, i);
            case 7 -> a.cmp(m, i);
            default -> a.test(m, i);
        }
    }

    private void unary() {
        int bits = width();
        boolean memory = rnd.nextInt(3) == 0;
        Reg r = reg(bits);
        Mem m = mem(bits);
        if (memory && rnd.nextBoolean()) a.lock();
        switch (rnd.nextInt(4)) {
            case 0 -> { if (memory) a.inc(m); else a.inc(r); }
            case 1 -> { if (memory) a.dec(m); else a.dec(r); }
            case 2 -> { if (memory) a.not(m); else a.not(r); }
            default -> { if (memory) a.neg(m); else a.neg(r); }
        }
    }

    private void shift() {
        int bits = width();
        Reg r = reg(bits);
        Mem m = mem(bits);
        boolean memory = rnd.nextInt(4) == 0;
        int form = rnd.nextInt(3); // by 1, by imm8, by CL
        int count = form == 0 ? 1 : rnd.nextInt(4) == 0 ? rnd.nextInt(256) : rnd.nextInt(bits + 2);
        if (form == 2) {
            if (!memory && r.code() == 1) r = sized(RAX, bits);
            if (rnd.nextBoolean()) a.mov(CL, count);
        }
        int op = rnd.nextInt(7);
        if (form == 2) {
            switch (op) {
                case 0 -> { if (memory) a.rol(m, CL); else a.rol(r, CL); }
                case 1 -> { if (memory) a.ror(m, CL); else a.ror(r, CL); }
                case 2 -> { if (memory) a.rcl(m, CL); else a.rcl(r, CL); }
                case 3 -> { if (memory) a.rcr(m, CL); else a.rcr(r, CL); }
                case 4 -> { if (memory) a.shl(m, CL); else a.shl(r, CL); }
                case 5 -> { if (memory) a.shr(m, CL); else a.shr(r, CL); }
                default -> { if (memory) a.sar(m, CL); else a.sar(r, CL); }
            }
        } else {
            switch (op) {
                case 0 -> { if (memory) a.rol(m, count); else a.rol(r, count); }
                case 1 -> { if (memory) a.ror(m, count); else a.ror(r, count); }
                case 2 -> { if (memory) a.rcl(m, count); else a.rcl(r, count); }
                case 3 -> { if (memory) a.rcr(m, count); else a.rcr(r, count); }
                case 4 -> { if (memory) a.shl(m, count); else a.shl(r, count); }
                case 5 -> { if (memory) a.shr(m, count); else a.shr(r, count); }
                default -> { if (memory) a.sar(m, count); else a.sar(r, count); }
            }
        }
        if (rnd.nextInt(4) == 0) shiftDouble();
    }

    /** SHLD/SHRD (0F A4/A5/AC/AD); a 16-bit count above 16 leaves the result undefined (SDM), so it is kept ≤ 16. */
    private void shiftDouble() {
        int bits = widthAtLeast16();
        Reg d = reg(bits), s = reg(bits);
        boolean right = rnd.nextBoolean();
        if (rnd.nextBoolean()) {
            int count = bits == 16 ? rnd.nextInt(17) : rnd.nextInt(256);
            raw(bits, new int[] {0x0F, right ? 0xAC : 0xA4}, s.code(), d.code(), count & 0xFF);
        } else {
            if (d.code() == 1 || s.code() == 1) return;
            if (bits == 16) a.and(CL, 15);
            raw(bits, new int[] {0x0F, right ? 0xAD : 0xA5}, s.code(), d.code());
        }
    }

    private void multiply() {
        int bits = width();
        switch (rnd.nextInt(4)) {
            case 0 -> {
                boolean memory = rnd.nextInt(3) == 0;
                if (rnd.nextBoolean()) {
                    if (memory) a.mul(mem(bits)); else a.mul(reg(bits));
                } else {
                    if (memory) a.imul(mem(bits)); else a.imul(reg(bits));
                }
            }
            case 1 -> {
                int w = widthAtLeast16();
                if (rnd.nextBoolean()) a.imul(reg(w), reg(w)); else a.imul(reg(w), mem(w));
            }
            default -> {
                int w = widthAtLeast16();
                if (rnd.nextBoolean()) a.imul(reg(w), reg(w), imm(w == 16 ? 16 : 32)); else a.imul(reg(w), mem(w), imm(8));
            }
        }
    }

    /**
     * DIV/IDIV without #DE: the divisor is made nonzero (OR 1); for DIV the high half of the
     * dividend is set below the divisor (zero, or divisor >> 1); for IDIV the dividend is
     * halved (SAR 1) and sign-extended, so the quotient always fits.
     */
    private void divide() {
        int bits = width();
        boolean signed = rnd.nextBoolean();
        boolean memory = rnd.nextInt(3) == 0;
        Reg src;
        Mem m = mem(bits);
        if (bits == 8) {
            src = new Reg[] {CL, DL, BL, CH, DH, BH}[rnd.nextInt(6)];
        } else {
            Reg r;
            do {
                r = pool[rnd.nextInt(pool.length)];
            } while (r.code() == 0 || r.code() == 2);
            src = sized(r, bits);
        }
        if (memory) a.or(m, 1); else a.or(src, 1);
        Reg acc = sized(RAX, bits);
        if (signed) {
            a.sar(acc, 1);
            switch (bits) {
                case 8 -> a.cbw();
                case 16 -> a.cwd();
                case 32 -> a.cdq();
                default -> a.cqo();
            }
            if (memory) a.idiv(m); else a.idiv(src);
        } else {
            Reg high = bits == 8 ? AH : sized(RDX, bits);
            if (rnd.nextBoolean() || memory) {
                if (bits == 8) a.mov(AH, 0); else a.xor(sized(RDX, bits), sized(RDX, bits));
            } else {
                a.mov(high, src);
                a.shr(high, 1);
            }
            if (memory) a.div(m); else a.div(src);
        }
    }

    private void bits() {
        int bits = widthAtLeast16();
        Reg r = reg(bits);
        switch (rnd.nextInt(4)) {
            case 0 -> {
                int op = rnd.nextInt(4);
                boolean memory = rnd.nextBoolean();
                int bit = rnd.nextInt(256);
                Mem m = mem(bits);
                if (memory && op != 0 && rnd.nextBoolean()) a.lock();
                switch (op) {
                    case 0 -> { if (memory) a.bt(m, bit); else a.bt(r, bit); }
                    case 1 -> { if (memory) a.bts(m, bit); else a.bts(r, bit); }
                    case 2 -> { if (memory) a.btr(m, bit); else a.btr(r, bit); }
                    default -> { if (memory) a.btc(m, bit); else a.btc(r, bit); }
                }
            }
            case 1 -> {
                Reg s = reg(bits);
                switch (rnd.nextInt(4)) {
                    case 0 -> a.bt(r, s);
                    case 1 -> a.bts(r, s);
                    case 2 -> a.btr(r, s);
                    default -> a.btc(r, s);
                }
            }
            default -> {
                // BSF/BSR (0F BC/BD), TZCNT/LZCNT (F3 0F BC/BD), POPCNT (F3 0F B8). A zero source
                // leaves BSF/BSR's destination undefined (SDM), so the source gets a set bit first.
                Reg s = reg(bits);
                int which = rnd.nextInt(5);
                if (which < 2 || rnd.nextBoolean()) a.bts(s, rnd.nextInt(bits));
                int[][] ops = {{0x0F, 0xBC}, {0x0F, 0xBD}, {0xF3, 0x0F, 0xBC}, {0xF3, 0x0F, 0xBD}, {0xF3, 0x0F, 0xB8}};
                raw(bits, ops[which], r.code(), s.code());
            }
        }
    }

    /** String instructions over the buffer: RSI/RDI into its middle, a small RCX, DF random. */
    private void string() {
        if (rnd.nextBoolean()) a.std(); else a.cld();
        a.lea(sized(RSI, bits), Mem.at(bufferBase(), 512 + rnd.nextInt(384)));
        a.lea(sized(RDI, bits), Mem.at(bufferBase(), 1024 + rnd.nextInt(256)));
        a.mov(sized(RCX, bits == 16 ? 16 : 32), rnd.nextInt(9));
        int size = rnd.nextInt(bits == 64 ? 4 : 3); // b, w, d, q
        int op = rnd.nextInt(5);
        int prefix = rnd.nextInt(3); // none, F3, F2
        int[] base = {0xA4, 0xAA, 0xAC, 0xA6, 0xAE}; // movs, stos, lods, cmps, scas
        if (op < 3 && prefix == 2) prefix = 1; // REPNE on movs/stos/lods is REP; keep it conventional
        java.util.List<Integer> bytes = new java.util.ArrayList<>();
        if ((size == 1 && bits != 16) || (size == 2 && bits == 16)) bytes.add(0x66);
        if (prefix == 1) bytes.add(0xF3);
        if (prefix == 2) bytes.add(0xF2);
        if (size == 3) bytes.add(0x48);
        bytes.add(base[op] + (size == 0 ? 0 : 1));
        a.db(bytes.stream().mapToInt(Integer::intValue).toArray());
        if (rnd.nextBoolean()) a.cld();
    }

    private void flagReader(boolean allowJump) {
        switch (rnd.nextInt(allowJump ? 5 : 4)) {
            case 0 -> {
                if (rnd.nextBoolean()) a.setcc(cond(), reg(8)); else a.setcc(cond(), mem(8));
            }
            case 1 -> {
                int w = widthAtLeast16();
                if (rnd.nextBoolean()) a.cmovcc(cond(), reg(w), reg(w)); else a.cmovcc(cond(), reg(w), mem(w));
            }
            case 2 -> {
                int bits = width();
                if (rnd.nextBoolean()) a.adc(reg(bits), reg(bits)); else a.sbb(reg(bits), imm(bits));
            }
            case 3 -> {
                a.pushf();
                a.pop(nativeReg());
            }
            default -> {
                Label over = new Label();
                a.jcc(cond(), over);
                int n = 1 + rnd.nextInt(3);
                for (int i = 0; i < n; i++) one(false);
                a.bind(over);
            }
        }
    }

    private void move() {
        int bits = width();
        switch (rnd.nextInt(7)) {
            case 0 -> a.mov(reg(bits), reg(bits));
            case 1 -> a.mov(reg(bits), mem(bits));
            case 2 -> a.mov(mem(bits), reg(bits));
            case 3 -> {
                int from = rnd.nextBoolean() ? 8 : 16;
                int to = from == 8 ? widthAtLeast16() : (rnd.nextBoolean() ? 32 : 64);
                boolean memory = rnd.nextBoolean();
                if (rnd.nextBoolean()) {
                    if (memory) a.movzx(reg(to), mem(from)); else a.movzx(reg(to), reg(from));
                } else {
                    if (memory) a.movsx(reg(to), mem(from)); else a.movsx(reg(to), reg(from));
                }
            }
            case 4 -> {
                if (rnd.nextBoolean()) a.movsxd(reg(64), reg(32)); else a.movsxd(reg(64), mem(32));
            }
            case 5 -> a.lea(reg(widthAtLeast16()), Mem.at(sized(nativeReg(), bits == 16 ? 32 : bits), bits == 64 ? rnd.nextInt() : rnd.nextInt(65536))
                    .index(sized(nativeReg(), bits == 16 ? 32 : bits), 1 << rnd.nextInt(4)));
            default -> {
                if (bits == 64 && rnd.nextBoolean()) a.movabs(reg(64), rnd.nextLong()); else a.mov(reg(bits), imm(bits));
            }
        }
    }

    private void exchange() {
        int bits = width();
        Reg x = reg(bits), y = reg(bits);
        Mem m = mem(bits);
        switch (rnd.nextInt(6)) {
            case 0 -> a.xchg(x, y);
            case 1 -> a.xchg(m, x);
            case 2 -> { if (rnd.nextBoolean()) a.lock(); a.xadd(m, x); }
            case 3 -> a.xadd(x, y);
            case 4 -> {
                if (rnd.nextBoolean()) a.mov(sized(RAX, bits), m);
                if (rnd.nextBoolean()) a.lock();
                a.cmpxchg(m, x);
            }
            default -> {
                int w = bits == 64 && rnd.nextBoolean() ? 64 : 32;
                a.bswap(reg(w));
            }
        }
    }

    private void stack() {
        switch (rnd.nextInt(4)) {
            case 0 -> a.push(nativeReg());
            case 1 -> a.pop(nativeReg());
            case 2 -> {
                // Random arithmetic flags (and DF) through POPF, keeping IF/TF/IOPL as they were.
                Reg r = nativeReg();
                a.pushf().pop(r).xor(r, rnd.nextInt(0x1000) & 0xCD5).push(r).popf();
            }
            default -> {
                if (rnd.nextBoolean()) a.push(bits == 16 ? imm(16) : imm(32)); else a.push(mem(bits));
                a.pop(nativeReg());
            }
        }
    }

    /**
     * CALL/RET pairs, ENTER (nesting levels 0-3 over a valid frame)/LEAVE, LOOP/LOOPE/LOOPNE/JrCXZ
     * forward, XLAT, CMPXCHG8B/CMPXCHG16B: the remaining forms compiled kernel code uses, kept
     * straight-line (every branch goes forward, every call returns).
     */
    private void controlAndFrames() {
        Reg sp = sized(RSP, bits), bp = sized(RBP, bits);
        switch (rnd.nextInt(5)) {
            case 0 -> {
                // call f; jmp over; f: <one instruction>; ret; over:
                Label f = new Label(), over = new Label();
                a.call(f).jmp(over).bind(f);
                if (rnd.nextBoolean()) {
                    try {
                        alu();
                    } catch (AsmException refused) {
                        // a form this mode lacks: the callee is just RET
                    }
                }
                if (rnd.nextBoolean()) a.ret(); else a.ret(8 * rnd.nextInt(3));
                a.bind(over);
                // RET imm16 released stack slots the caller did not push: that is fine on this stack.
            }
            case 1 -> {
                if (bits == 64 && bp.code() == 5) {
                    // ENTER reads the enclosing frame pointers at [RBP-8k] for level k: point RBP at the stack first.
                    a.mov(bp, sp);
                    int level = rnd.nextInt(4);
                    int frame = rnd.nextInt(64) * 8;
                    a.db(0xC8, frame & 0xFF, frame >>> 8, level); // enter frame, level
                    if (rnd.nextBoolean()) a.push(nativeReg());
                    a.db(0xC9); // leave
                }
            }
            case 2 -> {
                // LOOP/LOOPE/LOOPNE/JrCXZ (E2/E1/E0/E3) over a 3-byte ADD EAX, imm8 (83 C0 ib).
                int[] ops = {0xE2, 0xE1, 0xE0, 0xE3};
                a.db(ops[rnd.nextInt(4)], 3, 0x83, 0xC0, rnd.nextInt(256));
            }
            case 3 -> {
                if (bits != 16) {
                    // XLAT: AL <- [rBX + AL], rBX pointing into the buffer.
                    a.lea(sized(RBX, bits), Mem.at(bufferBase(), rnd.nextInt(1024)));
                    a.db(0xD7);
                }
            }
            default -> {
                if (bits == 64) {
                    // CMPXCHG8B / CMPXCHG16B [R15 + disp32] (0F C7 /1), 16B needs 16-byte alignment.
                    boolean wide = rnd.nextBoolean();
                    int disp = wide ? (rnd.nextInt(SPAN - 32) / 16) * 16 : rnd.nextInt(SPAN - 32);
                    if (rnd.nextBoolean()) a.mov(wide ? RAX : EAX, Mem.at(R15, disp).size(wide ? 64 : 32));
                    if (rnd.nextBoolean()) a.db(0xF0); // LOCK
                    a.db(wide ? 0x49 : 0x41, 0x0F, 0xC7, 0x8F, disp & 0xFF, (disp >>> 8) & 0xFF, 0, 0);
                }
            }
        }
    }

    private void flagWriter() {
        switch (rnd.nextInt(6)) {
            case 0 -> a.clc();
            case 1 -> a.stc();
            case 2 -> a.db(0xF5); // cmc
            case 3 -> a.db(0x9F); // lahf
            case 4 -> a.db(0x9E); // sahf
            default -> {
                switch (rnd.nextInt(6)) {
                    case 0 -> a.cbw();
                    case 1 -> a.cwde();
                    case 2 -> a.cdqe();
                    case 3 -> a.cwd();
                    case 4 -> a.cdq();
                    default -> a.cqo();
                }
            }
        }
    }

    /** AH/CH/DH/BH forms (encodable only without REX). */
    private void legacyHighBytes() {
        Reg d = LEGACY8[rnd.nextInt(8)], s = LEGACY8[rnd.nextInt(8)];
        switch (rnd.nextInt(4)) {
            case 0 -> a.mov(d, s);
            case 1 -> a.add(d, s);
            case 2 -> a.xchg(d, s);
            default -> a.sub(d, (long) (rnd.nextInt(256) - 128));
        }
    }

    // ------------------------------------------------------------------ SSE/SSE2 (raw bytes)

    /** {prefix, opcode}: XMM ← XMM/m128 operations (SDM Vol. 2 opcode map, 0F two-byte table). */
    private static final int[][] SSE_X_XM = {
            {0x66, 0x6F}, {0xF3, 0x6F}, {0, 0x28}, {0, 0x10}, {0x66, 0xEF}, {0x66, 0xDB}, {0x66, 0xDF}, {0x66, 0xEB},
            {0x66, 0xFC}, {0x66, 0xFD}, {0x66, 0xFE}, {0x66, 0xD4}, {0x66, 0xF8}, {0x66, 0xF9}, {0x66, 0xFA}, {0x66, 0xFB},
            {0x66, 0x74}, {0x66, 0x75}, {0x66, 0x76}, {0x66, 0x64}, {0x66, 0x65}, {0x66, 0x66},
            {0x66, 0x60}, {0x66, 0x61}, {0x66, 0x62}, {0x66, 0x6C}, {0x66, 0x68}, {0x66, 0x69}, {0x66, 0x6A}, {0x66, 0x6D},
            {0x66, 0x63}, {0x66, 0x67}, {0x66, 0x6B}, {0x66, 0xDA}, {0x66, 0xDE}, {0x66, 0xEA}, {0x66, 0xEE},
            {0x66, 0xE0}, {0x66, 0xE3}, {0x66, 0xF6}, {0x66, 0xD5}, {0x66, 0xE5}, {0x66, 0xE4}, {0x66, 0xF4}, {0x66, 0xF5},
            {0x66, 0xEC}, {0x66, 0xED}, {0x66, 0xDC}, {0x66, 0xDD}, {0x66, 0xE8}, {0x66, 0xE9}, {0x66, 0xD8}, {0x66, 0xD9},
            {0, 0x57}, {0, 0x54}, {0, 0x55}, {0, 0x56}, {0, 0x14}, {0, 0x15}, {0x66, 0x14}, {0x66, 0x15}, {0xF3, 0x7E},
            {0x66, 0xD1}, {0x66, 0xD2}, {0x66, 0xD3}, {0x66, 0xE1}, {0x66, 0xE2}, {0x66, 0xF1}, {0x66, 0xF2}, {0x66, 0xF3}};
    /**
     * Legacy-encoded SSE operations with an m128 operand need it 16-byte aligned (#GP otherwise,
     * SDM Vol. 1 §11.4.1 / Vol. 2 "Exceptions"); MOVDQU, MOVUPS and the 64-bit MOVQ do not.
     */
    private static boolean alignedLoad(int[] f) {
        return !((f[0] == 0xF3 && f[1] == 0x6F) || (f[0] == 0 && f[1] == 0x10) || (f[0] == 0xF3 && f[1] == 0x7E));
    }

    /**
     * SSE/SSE2 moves and integer operations of the kind gcc -O2 emits, with XMM0-15 and
     * [R15+disp32] memory operands (16-byte aligned where the instruction demands it).
     */
    private void sse() {
        int x = rnd.nextInt(16), y = rnd.nextInt(16);
        boolean memory = rnd.nextInt(3) == 0;
        switch (rnd.nextInt(8)) {
            case 6, 7 -> sseFloat(x, y, memory);
            case 0, 1 -> {
                int[] f = SSE_X_XM[rnd.nextInt(SSE_X_XM.length)];
                if (memory) sseMem(f[0], false, new int[] {f[1]}, x, disp(alignedLoad(f) ? 16 : 1));
                else sseReg(f[0], false, new int[] {f[1]}, x, y);
            }
            case 2 -> {
                // PSHUFD/PSHUFHW/PSHUFLW/SHUFPS/SHUFPD with an immediate.
                int[][] forms = {{0x66, 0x70}, {0xF3, 0x70}, {0xF2, 0x70}, {0, 0xC6}, {0x66, 0xC6}};
                int[] f = forms[rnd.nextInt(forms.length)];
                if (memory) sseMem(f[0], false, new int[] {f[1]}, x, disp(16), rnd.nextInt(256));
                else sseReg(f[0], false, new int[] {f[1]}, x, y, rnd.nextInt(256));
            }
            case 3 -> {
                // Stores: MOVDQA/MOVDQU/MOVAPS/MOVUPS/MOVQ m64/MOVNTDQ.
                int[][] forms = {{0x66, 0x7F, 16}, {0xF3, 0x7F, 1}, {0, 0x29, 16}, {0, 0x11, 1}, {0x66, 0xD6, 1}, {0x66, 0xE7, 16}};
                int[] f = forms[rnd.nextInt(forms.length)];
                if (memory || f[1] == 0xE7) sseMem(f[0], false, new int[] {f[1]}, x, disp(f[2]));
                else sseReg(f[0], false, new int[] {f[1]}, y, x);
            }
            case 4 -> {
                // Between XMM and general registers: MOVD/MOVQ both ways, PMOVMSKB, MOVMSKPS, PEXTRW, PINSRW.
                Reg g = POOL[rnd.nextInt(POOL.length)];
                boolean w = rnd.nextBoolean();
                switch (rnd.nextInt(6)) {
                    case 0 -> sseReg(0x66, w, new int[] {0x6E}, x, g.code());
                    case 1 -> sseReg(0x66, w, new int[] {0x7E}, x, g.code());
                    case 2 -> sseReg(0x66, false, new int[] {0xD7}, g.code(), x);
                    case 3 -> sseReg(0, false, new int[] {0x50}, g.code(), x);
                    case 4 -> sseReg(0x66, false, new int[] {0xC5}, g.code(), x, rnd.nextInt(256));
                    default -> sseReg(0x66, false, new int[] {0xC4}, x, g.code(), rnd.nextInt(256));
                }
            }
            default -> {
                // Shifts by an immediate: 66 0F 71/72/73 with the operation in ModRM.reg.
                int[][] forms = {{0x71, 2}, {0x71, 4}, {0x71, 6}, {0x72, 2}, {0x72, 4}, {0x72, 6}, {0x73, 2}, {0x73, 3}, {0x73, 6}, {0x73, 7}};
                int[] f = forms[rnd.nextInt(forms.length)];
                sseReg(0x66, false, new int[] {f[0]}, f[1], x, rnd.nextInt(4) == 0 ? rnd.nextInt(256) : rnd.nextInt(20));
            }
        }
    }

    /** SSE/SSE2 floating-point forms: {prefix, opcode, memory operand bytes (16 = aligned m128)}. */
    private static final int[][] SSE_FLOAT = {
            {0, 0x51, 16}, {0x66, 0x51, 16}, {0xF3, 0x51, 4}, {0xF2, 0x51, 8}, {0, 0x58, 16}, {0x66, 0x58, 16},
            {0xF3, 0x58, 4}, {0xF2, 0x58, 8}, {0, 0x59, 16}, {0x66, 0x59, 16}, {0xF3, 0x59, 4}, {0xF2, 0x59, 8},
            {0, 0x5C, 16}, {0x66, 0x5C, 16}, {0xF3, 0x5C, 4}, {0xF2, 0x5C, 8}, {0, 0x5D, 16}, {0x66, 0x5D, 16},
            {0xF3, 0x5D, 4}, {0xF2, 0x5D, 8}, {0, 0x5E, 16}, {0x66, 0x5E, 16}, {0xF3, 0x5E, 4}, {0xF2, 0x5E, 8},
            {0, 0x5F, 16}, {0x66, 0x5F, 16}, {0xF3, 0x5F, 4}, {0xF2, 0x5F, 8}, {0, 0x5A, 8}, {0x66, 0x5A, 16},
            {0xF3, 0x5A, 4}, {0xF2, 0x5A, 8}, {0, 0x5B, 16}, {0x66, 0x5B, 16}, {0xF3, 0x5B, 16}, {0x66, 0xE6, 16},
            {0xF3, 0xE6, 8}, {0xF2, 0xE6, 16}, {0, 0x2E, 4}, {0x66, 0x2E, 8}, {0, 0x2F, 4}, {0x66, 0x2F, 8}};

    /**
     * SSE/SSE2 floating-point arithmetic, compares and conversions (what gcc -O2 emits for float and
     * double code) on the random XMM contents, MXCSR at its reset value (every exception masked).
     */
    private void sseFloat(int x, int y, boolean memory) {
        if (rnd.nextInt(4) == 0) {
            // CVTSI2SS/SD xmm, r/m32/64 and CVT(T)SS2SI/SD2SI r32/64, xmm.
            Reg g = POOL[rnd.nextInt(POOL.length)];
            boolean w = rnd.nextBoolean();
            int prefix = rnd.nextBoolean() ? 0xF3 : 0xF2;
            switch (rnd.nextInt(3)) {
                case 0 -> { if (memory) sseMem(prefix, w, new int[] {0x2A}, x, disp(1)); else sseReg(prefix, w, new int[] {0x2A}, x, g.code()); }
                case 1 -> sseReg(prefix, w, new int[] {0x2C}, g.code(), x);
                default -> sseReg(prefix, w, new int[] {0x2D}, g.code(), x);
            }
            return;
        }
        boolean compare = rnd.nextInt(6) == 0;
        int[] f = compare ? new int[] {new int[] {0, 0x66, 0xF3, 0xF2}[rnd.nextInt(4)], 0xC2, 0} : SSE_FLOAT[rnd.nextInt(SSE_FLOAT.length)];
        if (compare) f[2] = f[0] <= 0x66 ? 16 : f[0] == 0xF3 ? 4 : 8;
        int[] imm = compare ? new int[] {rnd.nextInt(8)} : new int[0];
        if (memory) sseMem(f[0], false, new int[] {f[1]}, x, disp(f[2] == 16 ? 16 : 1), imm);
        else sseReg(f[0], false, new int[] {f[1]}, x, y, imm);
    }

    /** An SSE floating-point form, or (one time in eight) MXCSR ← 0x1F80 | random RC, DAZ, FZ through memory. */
    private void floatOrMxcsr() {
        if (rnd.nextInt(8) != 0) {
            sseFloat(rnd.nextInt(16), rnd.nextInt(16), rnd.nextInt(3) == 0);
            return;
        }
        int mxcsr = 0x1F80 | rnd.nextInt(4) << 13 | (rnd.nextInt(4) == 0 ? 0x40 : 0) | (rnd.nextInt(4) == 0 ? 0x8000 : 0);
        int disp = disp(4);
        java.util.List<Integer> b = new java.util.ArrayList<>(java.util.List.of(0x41, 0xC7, 0x87)); // mov dword [r15+disp32], imm32
        for (int i = 0; i < 4; i++) b.add((disp >>> (8 * i)) & 0xFF);
        for (int i = 0; i < 4; i++) b.add((mxcsr >>> (8 * i)) & 0xFF);
        a.db(b.stream().mapToInt(Integer::intValue).toArray());
        sseMemNoPrefix(0xAE, 2, disp); // ldmxcsr [r15+disp32]
    }

    /** REX.B 0F op ModRM(10, regField, 111) disp32. */
    private void sseMemNoPrefix(int op, int regField, int disp) {
        int[] b = {0x41, 0x0F, op, 0x80 | regField << 3 | 7, disp & 0xFF, (disp >>> 8) & 0xFF, (disp >>> 16) & 0xFF, disp >>> 24};
        a.db(b);
    }

    private int disp(int alignment) {
        return (rnd.nextInt(SPAN - 32) / alignment) * alignment;
    }

    /** [prefix] [REX] 0F op ModRM(11, reg, rm) [imm8]. */
    private void sseReg(int prefix, boolean w, int[] op, int reg, int rm, int... imm) {
        java.util.List<Integer> b = new java.util.ArrayList<>();
        if (prefix != 0) b.add(prefix);
        int rex = (w ? 8 : 0) | (reg >= 8 ? 4 : 0) | (rm >= 8 ? 1 : 0);
        if (rex != 0) b.add(0x40 | rex);
        b.add(0x0F);
        for (int o : op) b.add(o);
        b.add(0xC0 | (reg & 7) << 3 | (rm & 7));
        for (int i : imm) b.add(i & 0xFF);
        a.db(b.stream().mapToInt(Integer::intValue).toArray());
    }

    /** [prefix] REX.B(+R) 0F op ModRM(10, reg, 111) disp32 [imm8]: the operand is [R15 + disp]. */
    private void sseMem(int prefix, boolean w, int[] op, int reg, int disp, int... imm) {
        java.util.List<Integer> b = new java.util.ArrayList<>();
        if (prefix != 0) b.add(prefix);
        b.add(0x40 | (w ? 8 : 0) | (reg >= 8 ? 4 : 0) | 1);
        b.add(0x0F);
        for (int o : op) b.add(o);
        b.add(0x80 | (reg & 7) << 3 | 7);
        for (int i = 0; i < 4; i++) b.add((disp >>> (8 * i)) & 0xFF);
        for (int i : imm) b.add(i & 0xFF);
        a.db(b.stream().mapToInt(Integer::intValue).toArray());
    }

    /**
     * A register-register instruction as raw bytes: [66] [F3 when the opcode starts with it] [REX]
     * opcode ModRM(11, reg, rm) [imm8].
     */
    private void raw(int width, int[] opcode, int reg, int rm, int... imm) {
        java.util.List<Integer> b = new java.util.ArrayList<>();
        int start = 0;
        if (needsOperandSizePrefix(width)) b.add(0x66);
        if (opcode[0] == 0xF3) {
            b.add(0xF3);
            start = 1;
        }
        int rex = (width == 64 ? 8 : 0) | (reg >= 8 ? 4 : 0) | (rm >= 8 ? 1 : 0);
        if (rex != 0) b.add(0x40 | rex);
        for (int i = start; i < opcode.length; i++) b.add(opcode[i]);
        b.add(0xC0 | (reg & 7) << 3 | (rm & 7));
        for (int i : imm) b.add(i);
        a.db(b.stream().mapToInt(Integer::intValue).toArray());
    }

    /** 66 selects the non-default operand size: 16 bits in 32/64-bit code, 32 bits in 16-bit code (SDM Vol. 2A §2.1.1). */
    private boolean needsOperandSizePrefix(int width) {
        return bits == 16 ? width == 32 : width == 16;
    }
}
