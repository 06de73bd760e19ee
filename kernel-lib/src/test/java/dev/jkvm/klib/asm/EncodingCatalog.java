package dev.jkvm.klib.asm;

import static dev.jkvm.klib.asm.Reg.*;

import java.util.ArrayList;
import java.util.List;

/**
 * Generates every supported instruction form for one mode, crossing operations with register,
 * memory and immediate operand sets, each paired with its GNU as Intel-syntax spelling.
 */
final class EncodingCatalog {

    interface RR { Assembler apply(Assembler a, Reg x, Reg y); }
    interface RM { Assembler apply(Assembler a, Reg x, Mem y); }
    interface MR { Assembler apply(Assembler a, Mem x, Reg y); }
    interface RI { Assembler apply(Assembler a, Reg x, long y); }
    interface MI { Assembler apply(Assembler a, Mem x, long y); }
    interface R1 { Assembler apply(Assembler a, Reg x); }
    interface M1 { Assembler apply(Assembler a, Mem x); }
    interface RN { Assembler apply(Assembler a, Reg x, int n); }
    interface MN { Assembler apply(Assembler a, Mem x, int n); }
    interface Op0 { Assembler apply(Assembler a); }

    private record Alu(String name, RR rr, RM rm, MR mr, RI ri, MI mi) { }
    private record Unary(String name, R1 r, M1 m) { }
    private record Shift(String name, RN rn, MN mn, RR rcl, MR mcl) { }
    private record BitOp(String name, RR rr, MR mr, RN ri, MN mi) { }

    private static final List<Alu> ALU = List.of(
            new Alu("add", Assembler::add, Assembler::add, Assembler::add, Assembler::add, Assembler::add),
            new Alu("or", Assembler::or, Assembler::or, Assembler::or, Assembler::or, Assembler::or),
            new Alu("adc", Assembler::adc, Assembler::adc, Assembler::adc, Assembler::adc, Assembler::adc),
            new Alu("sbb", Assembler::sbb, Assembler::sbb, Assembler::sbb, Assembler::sbb, Assembler::sbb),
            new Alu("and", Assembler::and, Assembler::and, Assembler::and, Assembler::and, Assembler::and),
            new Alu("sub", Assembler::sub, Assembler::sub, Assembler::sub, Assembler::sub, Assembler::sub),
            new Alu("xor", Assembler::xor, Assembler::xor, Assembler::xor, Assembler::xor, Assembler::xor),
            new Alu("cmp", Assembler::cmp, Assembler::cmp, Assembler::cmp, Assembler::cmp, Assembler::cmp),
            new Alu("mov", Assembler::mov, Assembler::mov, Assembler::mov, Assembler::mov, Assembler::mov));

    private static final List<Unary> UNARY = List.of(
            new Unary("not", Assembler::not, Assembler::not),
            new Unary("neg", Assembler::neg, Assembler::neg),
            new Unary("mul", Assembler::mul, Assembler::mul),
            new Unary("imul", Assembler::imul, Assembler::imul),
            new Unary("div", Assembler::div, Assembler::div),
            new Unary("idiv", Assembler::idiv, Assembler::idiv),
            new Unary("inc", Assembler::inc, Assembler::inc),
            new Unary("dec", Assembler::dec, Assembler::dec));

    private static final List<Shift> SHIFTS = List.of(
            new Shift("rol", Assembler::rol, Assembler::rol, Assembler::rol, Assembler::rol),
            new Shift("ror", Assembler::ror, Assembler::ror, Assembler::ror, Assembler::ror),
            new Shift("rcl", Assembler::rcl, Assembler::rcl, Assembler::rcl, Assembler::rcl),
            new Shift("rcr", Assembler::rcr, Assembler::rcr, Assembler::rcr, Assembler::rcr),
            new Shift("shl", Assembler::shl, Assembler::shl, Assembler::shl, Assembler::shl),
            new Shift("shr", Assembler::shr, Assembler::shr, Assembler::shr, Assembler::shr),
            new Shift("sar", Assembler::sar, Assembler::sar, Assembler::sar, Assembler::sar));

    private static final List<BitOp> BIT_OPS = List.of(
            new BitOp("bt", Assembler::bt, Assembler::bt, Assembler::bt, Assembler::bt),
            new BitOp("bts", Assembler::bts, Assembler::bts, Assembler::bts, Assembler::bts),
            new BitOp("btr", Assembler::btr, Assembler::btr, Assembler::btr, Assembler::btr),
            new BitOp("btc", Assembler::btc, Assembler::btc, Assembler::btc, Assembler::btc));

    private final Mode mode;
    private final List<Form> forms = new ArrayList<>();

    private EncodingCatalog(Mode mode) {
        this.mode = mode;
    }

    static List<Form> forms(Mode mode) {
        EncodingCatalog c = new EncodingCatalog(mode);
        c.generate();
        return c.forms;
    }

    // ------------------------------------------------------------ operand sets

    private boolean long64() {
        return mode == Mode.LONG64;
    }

    private int[] widths() {
        return long64() ? new int[] {8, 16, 32, 64} : new int[] {8, 16, 32};
    }

    private List<Reg> regs(int bits) {
        if (long64()) {
            return switch (bits) {
                case 64 -> List.of(RAX, RCX, RSP, RBP, RSI, R8, R12, R13, R15);
                case 32 -> List.of(EAX, ECX, ESP, EBP, EDI, R8D, R12D, R13D, R15D);
                case 16 -> List.of(AX, CX, SP, BP, SI, R8W, R12W, R15W);
                default -> List.of(AL, CL, DL, BL, AH, BH, SPL, BPL, SIL, DIL, R8B, R13B, R15B);
            };
        }
        return switch (bits) {
            case 32 -> List.of(EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI);
            case 16 -> List.of(AX, CX, DX, BX, SP, BP, SI, DI);
            default -> List.of(AL, CL, DL, BL, AH, CH, DH, BH);
        };
    }

    /** A smaller register set for cross products with memory operands. */
    private List<Reg> someRegs(int bits) {
        if (long64()) {
            return switch (bits) {
                case 64 -> List.of(RAX, RCX, RSP, R9, R13);
                case 32 -> List.of(EAX, EDX, EBP, R10D);
                case 16 -> List.of(AX, BX, R11W);
                default -> List.of(AL, CL, AH, SIL, R12B);
            };
        }
        return switch (bits) {
            case 32 -> List.of(EAX, EDX, EBP);
            case 16 -> List.of(AX, BX, DI);
            default -> List.of(AL, CL, AH);
        };
    }

    private interface ExtMem {
        Mem make(Label ext);
    }

    private record MemCase(String gnu, ExtMem mem) { }

    private static MemCase mem(Mem m) {
        return new MemCase(m.toString(), ext -> m);
    }

    private List<MemCase> mems() {
        List<MemCase> out = new ArrayList<>();
        switch (mode) {
            case LONG64 -> {
                out.add(mem(Mem.at(RAX)));
                out.add(mem(Mem.at(RSP)));
                out.add(mem(Mem.at(RBP)));
                out.add(mem(Mem.at(R12)));
                out.add(mem(Mem.at(R13)));
                out.add(mem(Mem.at(RAX, 8)));
                out.add(mem(Mem.at(RBP, -128)));
                out.add(mem(Mem.at(RDI, 127)));
                out.add(mem(Mem.at(RSI, 128)));
                out.add(mem(Mem.at(RAX, 0x12345)));
                out.add(mem(Mem.at(RAX).index(RCX, 4)));
                out.add(mem(Mem.at(R8).index(R9, 8).disp(0x10)));
                out.add(mem(Mem.at(RSP).index(RBP, 2).disp(-4)));
                out.add(mem(Mem.at(R13).index(R12, 1)));
                out.add(mem(Mem.at(RBP).index(R15, 2)));
                out.add(mem(Mem.abs(0).index(RCX, 8).disp(0x10)));
                out.add(mem(Mem.abs(0x1234)));
                out.add(mem(Mem.at(EAX)));
                out.add(mem(Mem.at(R8D).index(ECX, 2).disp(0x7f)));
                out.add(mem(Mem.at(RAX).seg(SegReg.FS)));
                out.add(mem(Mem.abs(0x28).seg(SegReg.GS)));
                out.add(new MemCase("[rip+ext]", Mem::rip));
                out.add(new MemCase("[rip+ext+0x10]", ext -> Mem.rip(ext).disp(0x10)));
                out.add(new MemCase("[ext]", Mem::abs));
                out.add(new MemCase("[rbx+ext+8]", ext -> Mem.at(RBX, ext).disp(8)));
                out.add(new MemCase("[rcx*1+ext]", ext -> Mem.abs(ext).index(RCX, 1)));
            }
            case PROTECTED32 -> {
                out.add(mem(Mem.at(EAX)));
                out.add(mem(Mem.at(ESP)));
                out.add(mem(Mem.at(EBP)));
                out.add(mem(Mem.at(EAX, 8)));
                out.add(mem(Mem.at(EBP, -128)));
                out.add(mem(Mem.at(ESI, 0x1000)));
                out.add(mem(Mem.at(EAX).index(ECX, 4)));
                out.add(mem(Mem.at(ESP).index(EBP, 2).disp(-4)));
                out.add(mem(Mem.at(EBP).index(EDI, 8).disp(0x12345678)));
                out.add(mem(Mem.abs(0).index(ECX, 8).disp(0x10)));
                out.add(mem(Mem.abs(0x1234)));
                out.add(mem(Mem.abs(0xFFFFF000L)));
                out.add(mem(Mem.at(BX).index(SI, 1)));
                out.add(mem(Mem.at(BP, 0x10)));
                out.add(mem(Mem.at(EDI).seg(SegReg.ES)));
                out.add(mem(Mem.abs(0x10).seg(SegReg.FS)));
                out.add(new MemCase("[ext]", Mem::abs));
                out.add(new MemCase("[ext+0x8]", ext -> Mem.abs(ext).disp(8)));
                out.add(new MemCase("[ebx+ext]", ext -> Mem.at(EBX, ext)));
                out.add(new MemCase("[esi*2+ext]", ext -> Mem.abs(ext).index(ESI, 2)));
            }
            case REAL16 -> {
                out.add(mem(Mem.at(BX)));
                out.add(mem(Mem.at(BP)));
                out.add(mem(Mem.at(SI)));
                out.add(mem(Mem.at(DI)));
                out.add(mem(Mem.at(BX).index(SI, 1)));
                out.add(mem(Mem.at(BX).index(DI, 1)));
                out.add(mem(Mem.at(BP).index(SI, 1)));
                out.add(mem(Mem.at(BP).index(DI, 1).disp(0x10)));
                out.add(mem(Mem.at(BX, 0x1234)));
                out.add(mem(Mem.at(BP, -2)));
                out.add(mem(Mem.at(SI, 0x7f)));
                out.add(mem(Mem.at(DI, 0x80)));
                out.add(mem(Mem.abs(0x1234)));
                out.add(mem(Mem.at(EAX)));
                out.add(mem(Mem.at(ESP, 4)));
                out.add(mem(Mem.at(EAX).index(ECX, 4).disp(0x100)));
                out.add(mem(Mem.at(BX).seg(SegReg.SS)));
                out.add(mem(Mem.abs(0x40).seg(SegReg.ES)));
                out.add(new MemCase("[ext]", Mem::abs));
                out.add(new MemCase("[bx+ext]", ext -> Mem.at(BX, ext)));
                out.add(new MemCase("[bp+di+ext]", ext -> Mem.at(BP, ext).index(DI, 1)));
            }
        }
        return out;
    }

    private List<MemCase> someMems() {
        List<MemCase> all = mems();
        List<MemCase> out = new ArrayList<>();
        for (int i = 0; i < all.size(); i += 3) {
            out.add(all.get(i));
        }
        out.add(all.getLast());
        return out;
    }

    private static MemCase sized(MemCase m, int bits) {
        String ptr = switch (bits) {
            case 8 -> "byte ptr ";
            case 16 -> "word ptr ";
            case 32 -> "dword ptr ";
            case 64 -> "qword ptr ";
            case 48 -> "fword ptr ";
            default -> "";
        };
        return new MemCase(ptr + m.gnu(), ext -> m.mem().make(ext).size(bits));
    }

    private List<Long> immediates(int bits) {
        List<Long> all = List.of(0L, 1L, -1L, 127L, 128L, -128L, -129L, 255L, 0x1234L, -0x8000L, 0xFFFFL,
                0x12345678L, 0x7FFFFFFFL, -0x80000000L, 0xFFFFFFFFL);
        List<Long> out = new ArrayList<>();
        for (long v : all) {
            boolean fits = switch (bits) {
                case 8 -> v >= -128 && v <= 255;
                case 16 -> v >= -0x8000 && v <= 0xFFFF;
                case 32 -> v >= Integer.MIN_VALUE && v <= 0xFFFFFFFFL;
                default -> v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE;
            };
            if (fits) {
                out.add(v);
            }
        }
        return out;
    }

    // ------------------------------------------------------------ REX legality

    private static boolean rexUser(Reg r) {
        return r.isExtended() || r.needsRex() || r.bits() == 64;
    }

    private boolean conflict(Reg a, Reg b) {
        boolean high = a.isHighByte() || (b != null && b.isHighByte());
        boolean rex = rexUser(a) || (b != null && rexUser(b));
        return high && rex;
    }

    private boolean conflict(Reg r, MemCase m) {
        if (!r.isHighByte()) {
            return false;
        }
        return m.gnu().matches(".*\\b(r\\d+d?)\\b.*");
    }

    // ------------------------------------------------------------ form helpers

    private void add(String gnu, Form.Emitter ours) {
        forms.add(new Form(gnu, ours));
    }

    private void op0(String gnu, Op0 op) {
        add(gnu, (a, ext) -> op.apply(a));
    }

    // ------------------------------------------------------------ generation

    private void generate() {
        aluForms();
        testAndXchg();
        unaryForms();
        imulForms();
        shiftForms();
        bitForms();
        conditionForms();
        extensionForms();
        movSpecialForms();
        stackForms();
        branchForms();
        relaxationForms();
        atomicForms();
        ioForms();
        systemForms();
        dataForms();
    }

    private void aluForms() {
        for (Alu op : ALU) {
            for (int bits : widths()) {
                for (Reg d : regs(bits)) {
                    for (Reg s : regs(bits)) {
                        if (!conflict(d, s)) {
                            add(op.name() + " " + d + ", " + s, (a, ext) -> op.rr().apply(a, d, s));
                        }
                    }
                    for (long v : immediates(bits)) {
                        add(op.name() + " " + d + ", " + v, (a, ext) -> op.ri().apply(a, d, v));
                    }
                }
                for (Reg r : someRegs(bits)) {
                    for (MemCase m0 : mems()) {
                        if (conflict(r, m0)) {
                            continue;
                        }
                        MemCase m = sized(m0, bits);
                        add(op.name() + " " + r + ", " + m.gnu(), (a, ext) -> op.rm().apply(a, r, m.mem().make(ext)));
                        add(op.name() + " " + m.gnu() + ", " + r, (a, ext) -> op.mr().apply(a, m.mem().make(ext), r));
                    }
                }
                for (MemCase m0 : mems()) {
                    MemCase m = sized(m0, bits);
                    for (long v : List.of(1L, -1L, 0x1234L, 0x7FFFFFFFL)) {
                        if (immediates(bits).contains(v)) {
                            add(op.name() + " " + m.gnu() + ", " + v, (a, ext) -> op.mi().apply(a, m.mem().make(ext), v));
                        }
                    }
                }
            }
        }
        if (long64()) {
            for (long v : List.of(0x80000000L, 0xFFFFFFFFL, 0x123456789ABCL, -0x80000001L, Long.MIN_VALUE, -1L)) {
                add("movabs rax, " + v, (a, ext) -> a.movabs(RAX, v));
                add("movabs r9, " + v, (a, ext) -> a.movabs(R9, v));
                add("mov r14, " + v, (a, ext) -> a.mov(R14, v));
            }
            for (Reg acc : List.of(AL, AX, EAX, RAX)) {
                for (long addr : List.of(0x12L, 0x123456789L, -8L)) {
                    String ptr = sized(mem(Mem.abs(0)), acc.bits()).gnu().replace("[0x0]", "");
                    add("movabs " + acc + ", " + ptr + "ds:" + addr, (a, ext) -> a.movabs(acc, Mem.abs(addr)));
                    add("movabs " + ptr + "ds:" + addr + ", " + acc, (a, ext) -> a.movabs(Mem.abs(addr), acc));
                }
                add("movabs " + acc + ", ds:ext", (a, ext) -> a.movabs(acc, Mem.abs(ext)));
                add("movabs fs:ext, " + acc, (a, ext) -> a.movabs(Mem.abs(ext).seg(SegReg.FS), acc));
            }
            add("movabs rax, offset ext", (a, ext) -> a.mov(RAX, ext));
            add("movabs r10, offset ext", (a, ext) -> a.mov(R10, ext));
        }
        add("mov eax, offset ext", (a, ext) -> a.mov(EAX, ext));
        add("mov dword ptr [" + (mode == Mode.REAL16 ? "bx" : long64() ? "rax" : "eax") + "], offset ext",
                (a, ext) -> a.mov(Mem.at(mode == Mode.REAL16 ? BX : long64() ? RAX : EAX).m32(), ext));
        if (!long64()) {
            add("mov cx, offset ext", (a, ext) -> a.mov(CX, ext));
        } else {
            add("mov qword ptr [rdi], offset ext", (a, ext) -> a.mov(Mem.at(RDI).m64(), ext));
        }
    }

    private void testAndXchg() {
        for (int bits : widths()) {
            for (Reg d : regs(bits)) {
                for (Reg s : regs(bits)) {
                    if (!conflict(d, s)) {
                        add("test " + d + ", " + s, (a, ext) -> a.test(d, s));
                        add("xchg " + d + ", " + s, (a, ext) -> a.xchg(d, s));
                    }
                }
                for (long v : immediates(bits)) {
                    add("test " + d + ", " + v, (a, ext) -> a.test(d, v));
                }
            }
            for (Reg r : someRegs(bits)) {
                for (MemCase m0 : someMems()) {
                    if (conflict(r, m0)) {
                        continue;
                    }
                    MemCase m = sized(m0, bits);
                    add("test " + m.gnu() + ", " + r, (a, ext) -> a.test(m.mem().make(ext), r));
                    add("test " + r + ", " + m.gnu(), (a, ext) -> a.test(r, m.mem().make(ext)));
                    add("xchg " + m.gnu() + ", " + r, (a, ext) -> a.xchg(m.mem().make(ext), r));
                    add("xchg " + r + ", " + m.gnu(), (a, ext) -> a.xchg(r, m.mem().make(ext)));
                }
            }
            for (MemCase m0 : someMems()) {
                MemCase m = sized(m0, bits);
                add("test " + m.gnu() + ", 1", (a, ext) -> a.test(m.mem().make(ext), 1));
                add("test " + m.gnu() + ", -1", (a, ext) -> a.test(m.mem().make(ext), -1));
            }
        }
    }

    private void unaryForms() {
        for (Unary op : UNARY) {
            for (int bits : widths()) {
                for (Reg r : regs(bits)) {
                    add(op.name() + " " + r, (a, ext) -> op.r().apply(a, r));
                }
                for (MemCase m0 : mems()) {
                    MemCase m = sized(m0, bits);
                    add(op.name() + " " + m.gnu(), (a, ext) -> op.m().apply(a, m.mem().make(ext)));
                }
            }
        }
        for (String n : long64() ? List.of("cbw", "cwde", "cdqe", "cwd", "cdq", "cqo") : List.of("cbw", "cwde", "cwd", "cdq")) {
            op0(n, switch (n) {
                case "cbw" -> Assembler::cbw;
                case "cwde" -> Assembler::cwde;
                case "cdqe" -> Assembler::cdqe;
                case "cwd" -> Assembler::cwd;
                case "cdq" -> Assembler::cdq;
                default -> Assembler::cqo;
            });
        }
    }

    private void imulForms() {
        for (int bits : widths()) {
            if (bits == 8) {
                continue;
            }
            for (Reg d : regs(bits)) {
                for (Reg s : regs(bits)) {
                    add("imul " + d + ", " + s, (a, ext) -> a.imul(d, s));
                    for (long v : List.of(3L, -128L, 1000L)) {
                        add("imul " + d + ", " + s + ", " + v, (a, ext) -> a.imul(d, s, v));
                    }
                }
                add("imul " + d + ", " + d + ", 100", (a, ext) -> a.imul(d, 100));
            }
            for (Reg r : someRegs(bits)) {
                for (MemCase m0 : mems()) {
                    MemCase m = sized(m0, bits);
                    add("imul " + r + ", " + m.gnu(), (a, ext) -> a.imul(r, m.mem().make(ext)));
                    add("imul " + r + ", " + m.gnu() + ", 7", (a, ext) -> a.imul(r, m.mem().make(ext), 7));
                    add("imul " + r + ", " + m.gnu() + ", 300", (a, ext) -> a.imul(r, m.mem().make(ext), 300));
                }
            }
        }
    }

    private void shiftForms() {
        for (Shift op : SHIFTS) {
            for (int bits : widths()) {
                for (Reg r : regs(bits)) {
                    for (int n : List.of(1, 2, 31)) {
                        add(op.name() + " " + r + ", " + n, (a, ext) -> op.rn().apply(a, r, n));
                    }
                    if (!conflict(r, CL)) {
                        add(op.name() + " " + r + ", cl", (a, ext) -> op.rcl().apply(a, r, CL));
                    }
                }
                for (MemCase m0 : someMems()) {
                    MemCase m = sized(m0, bits);
                    add(op.name() + " " + m.gnu() + ", 1", (a, ext) -> op.mn().apply(a, m.mem().make(ext), 1));
                    add(op.name() + " " + m.gnu() + ", 5", (a, ext) -> op.mn().apply(a, m.mem().make(ext), 5));
                    add(op.name() + " " + m.gnu() + ", cl", (a, ext) -> op.mcl().apply(a, m.mem().make(ext), CL));
                }
            }
        }
    }

    private void bitForms() {
        for (BitOp op : BIT_OPS) {
            for (int bits : widths()) {
                if (bits == 8) {
                    continue;
                }
                for (Reg r : regs(bits)) {
                    for (Reg b : someRegs(bits)) {
                        add(op.name() + " " + r + ", " + b, (a, ext) -> op.rr().apply(a, r, b));
                    }
                    add(op.name() + " " + r + ", 5", (a, ext) -> op.ri().apply(a, r, 5));
                }
                for (MemCase m0 : someMems()) {
                    MemCase m = sized(m0, bits);
                    for (Reg b : someRegs(bits)) {
                        add(op.name() + " " + m.gnu() + ", " + b, (a, ext) -> op.mr().apply(a, m.mem().make(ext), b));
                    }
                    add(op.name() + " " + m.gnu() + ", 13", (a, ext) -> op.mi().apply(a, m.mem().make(ext), 13));
                }
            }
        }
    }

    private void conditionForms() {
        for (Cond c : Cond.values()) {
            for (Reg r : regs(8)) {
                add("set" + c + " " + r, (a, ext) -> a.setcc(c, r));
            }
            for (MemCase m0 : someMems()) {
                MemCase m = sized(m0, 8);
                add("set" + c + " " + m.gnu(), (a, ext) -> a.setcc(c, m.mem().make(ext)));
            }
            for (int bits : widths()) {
                if (bits == 8) {
                    continue;
                }
                for (Reg d : someRegs(bits)) {
                    for (Reg s : someRegs(bits)) {
                        add("cmov" + c + " " + d + ", " + s, (a, ext) -> a.cmovcc(c, d, s));
                    }
                    for (MemCase m0 : someMems()) {
                        MemCase m = sized(m0, bits);
                        add("cmov" + c + " " + d + ", " + m.gnu(), (a, ext) -> a.cmovcc(c, d, m.mem().make(ext)));
                    }
                }
            }
            add("j" + c + " ext", (a, ext) -> a.jcc(c, ext));
            add("j" + c + " %L\n.skip 3\n%L:", (a, ext) -> {
                Label l = new Label();
                a.jcc(c, l).db(new byte[3]).bind(l);
            });
            add("%L:\n.skip 200\nj" + c + " %L", (a, ext) -> {
                Label l = new Label();
                a.bind(l).db(new byte[200]).jcc(c, l);
            });
        }
    }

    private void extensionForms() {
        for (int dbits : widths()) {
            for (int sbits : List.of(8, 16)) {
                if (dbits <= sbits) {
                    continue;
                }
                for (Reg d : someRegs(dbits)) {
                    for (Reg s : regs(sbits)) {
                        if (conflict(d, s)) {
                            continue;
                        }
                        add("movzx " + d + ", " + s, (a, ext) -> a.movzx(d, s));
                        add("movsx " + d + ", " + s, (a, ext) -> a.movsx(d, s));
                    }
                    for (MemCase m0 : someMems()) {
                        MemCase m = sized(m0, sbits);
                        add("movzx " + d + ", " + m.gnu(), (a, ext) -> a.movzx(d, m.mem().make(ext)));
                        add("movsx " + d + ", " + m.gnu(), (a, ext) -> a.movsx(d, m.mem().make(ext)));
                    }
                }
            }
        }
        if (long64()) {
            for (Reg d : regs(64)) {
                for (Reg s : someRegs(32)) {
                    add("movsxd " + d + ", " + s, (a, ext) -> a.movsxd(d, s));
                }
                for (MemCase m0 : someMems()) {
                    MemCase m = sized(m0, 32);
                    add("movsxd " + d + ", " + m.gnu(), (a, ext) -> a.movsxd(d, m.mem().make(ext)));
                }
            }
        }
        for (int bits : widths()) {
            if (bits == 8) {
                continue;
            }
            for (Reg d : someRegs(bits)) {
                for (MemCase m : mems()) {
                    add("lea " + d + ", " + m.gnu(), (a, ext) -> a.lea(d, m.mem().make(ext)));
                }
            }
            for (Reg r : regs(bits)) {
                if (bits >= 32) {
                    add("bswap " + r, (a, ext) -> a.bswap(r));
                }
            }
        }
    }

    private void movSpecialForms() {
        List<SegReg> segs = List.of(SegReg.values());
        for (SegReg s : segs) {
            for (int bits : widths()) {
                if (bits == 8) {
                    continue;
                }
                for (Reg r : someRegs(bits)) {
                    add("mov " + r + ", " + s, (a, ext) -> a.mov(r, s));
                    if (s != SegReg.CS) {
                        add("mov " + s + ", " + r, (a, ext) -> a.mov(s, r));
                    }
                }
            }
            for (MemCase m0 : someMems()) {
                MemCase m = sized(m0, 16);
                add("mov " + m.gnu() + ", " + s, (a, ext) -> a.mov(m.mem().make(ext), s));
                if (s != SegReg.CS) {
                    add("mov " + s + ", " + m.gnu(), (a, ext) -> a.mov(s, m.mem().make(ext)));
                }
            }
        }
        for (CtrlReg c : CtrlReg.values()) {
            if (c == CtrlReg.CR8 && !long64()) {
                continue;
            }
            for (Reg r : long64() ? List.of(RAX, RBX, R9, R15) : List.of(EAX, EBX, EDI)) {
                add("mov " + r + ", " + c, (a, ext) -> a.mov(r, c));
                add("mov " + c + ", " + r, (a, ext) -> a.mov(c, r));
            }
        }
        if (!long64()) {
            for (Reg r : List.of(AL, AX, EAX)) {
                MemCase abs = mem(Mem.abs(0x1234).size(r.bits()));
                add("mov " + r + ", " + abs.gnu(), (a, ext) -> a.mov(r, abs.mem().make(ext)));
                add("mov " + abs.gnu() + ", " + r, (a, ext) -> a.mov(abs.mem().make(ext), r));
            }
        }
    }

    private void stackForms() {
        int stack = mode.stackBits();
        for (Reg r : regs(stack)) {
            add("push " + r, (a, ext) -> a.push(r));
            add("pop " + r, (a, ext) -> a.pop(r));
        }
        for (Reg r : regs(16)) {
            add("push " + r, (a, ext) -> a.push(r));
            add("pop " + r, (a, ext) -> a.pop(r));
        }
        if (mode == Mode.REAL16) {
            for (Reg r : regs(32)) {
                add("push " + r, (a, ext) -> a.push(r));
                add("pop " + r, (a, ext) -> a.pop(r));
            }
        }
        for (MemCase m0 : mems()) {
            for (int bits : mode == Mode.PROTECTED32 ? List.of(32, 16) : List.of(stack, mode == Mode.REAL16 ? 32 : 16)) {
                MemCase m = sized(m0, bits);
                add("push " + m.gnu(), (a, ext) -> a.push(m.mem().make(ext)));
                add("pop " + m.gnu(), (a, ext) -> a.pop(m.mem().make(ext)));
            }
        }
        List<Long> imms = mode == Mode.REAL16
                ? List.of(0L, 1L, -1L, 127L, 128L, -128L, -129L, 0x1234L)
                : List.of(0L, 1L, -1L, 127L, 128L, -128L, -129L, 0x1234L, 0x12345678L, -0x80000000L);
        for (long v : imms) {
            add("push " + v, (a, ext) -> a.push(v));
        }
        for (SegReg s : long64() ? List.of(SegReg.FS, SegReg.GS) : List.of(SegReg.values())) {
            add("push " + s, (a, ext) -> a.push(s));
            if (s != SegReg.CS) {
                add("pop " + s, (a, ext) -> a.pop(s));
            }
        }
        op0("pushf", Assembler::pushf);
        op0("popf", Assembler::popf);
        op0("leave", Assembler::leave);
        if (!long64()) {
            op0("pusha", Assembler::pusha);
            op0("popa", Assembler::popa);
        }
    }

    private void branchForms() {
        int stack = mode.stackBits();
        List<Reg> targets = switch (mode) {
            case LONG64 -> List.of(RAX, RSP, R11, R15);
            case PROTECTED32 -> List.of(EAX, ESI, AX);
            case REAL16 -> List.of(AX, BX, EAX);
        };
        for (Reg r : targets) {
            add("jmp " + r, (a, ext) -> a.jmp(r));
            add("call " + r, (a, ext) -> a.call(r));
        }
        for (MemCase m0 : mems()) {
            MemCase m = sized(m0, stack);
            add("jmp " + m.gnu(), (a, ext) -> a.jmp(m.mem().make(ext)));
            add("call " + m.gnu(), (a, ext) -> a.call(m.mem().make(ext)));
        }
        add("call ext", (a, ext) -> a.call(ext));
        add("jmp ext", (a, ext) -> a.jmp(ext));
        add("call %L\n.skip 5\n%L:", (a, ext) -> {
            Label l = new Label();
            a.call(l).db(new byte[5]).bind(l);
        });
        add("%L:\n.skip 1000\ncall %L", (a, ext) -> {
            Label l = new Label();
            a.bind(l).db(new byte[1000]).call(l);
        });
        op0("ret", Assembler::ret);
        add("ret 8", (a, ext) -> a.ret(8));
        add("ret 0x1234", (a, ext) -> a.ret(0x1234));
        add(long64() ? "retfd" : "retf", (a, ext) -> a.retf());
        if (long64()) {
            op0("retfq", Assembler::retfq);
            for (MemCase m0 : someMems()) {
                add("jmp " + sized(m0, 48).gnu(), (a, ext) -> a.jmpFar(m0.mem().make(ext).size(48)));
                add("call " + sized(m0, 48).gnu(), (a, ext) -> a.callFar(m0.mem().make(ext).size(48)));
                add("rex64 jmp " + sized(m0, 48).gnu(), (a, ext) -> a.jmpFar(m0.mem().make(ext).size(80)));
            }
        } else {
            add("ljmp 0x8:0x1000", (a, ext) -> a.jmpFar(8, 0x1000));
            add("lcall 0x10:0x2000", (a, ext) -> a.callFar(0x10, 0x2000));
            add("ljmp 0x18:ext", (a, ext) -> a.jmpFar(0x18, ext, mode.defaultOperandBits()));
            if (mode == Mode.REAL16) {
                add("data32 ljmp 0x8:ext", (a, ext) -> a.jmpFar(8, ext, 32));
                add("data32 ljmp 0x8:0x12345", (a, ext) -> a.jmpFar(8, 0x12345, 32));
            } else {
                add("data16 ljmp 0x8:ext", (a, ext) -> a.jmpFar(8, ext, 16));
                add("data16 ljmp 0x8:0x1234", (a, ext) -> a.jmpFar(8, 0x1234, 16));
            }
            for (MemCase m0 : someMems()) {
                add("jmp " + sized(m0, 48).gnu(), (a, ext) -> a.jmpFar(m0.mem().make(ext).size(48)));
                add("call " + sized(m0, 48).gnu(), (a, ext) -> a.callFar(m0.mem().make(ext).size(48)));
            }
        }
        add("int 0x80", (a, ext) -> a.intN(0x80));
        add("int 3", (a, ext) -> a.intN(3));
        op0("int3", Assembler::int3);
        add(mode == Mode.REAL16 ? "iret" : "iretd", (a, ext) -> a.iret());
        if (long64()) {
            op0("iretq", Assembler::iretq);
            op0("syscall", Assembler::syscall);
            op0("sysretq", Assembler::sysretq);
            op0("sysretd", Assembler::sysret);
        }
    }

    private void relaxationForms() {
        for (int gap : List.of(0, 1, 125, 126, 127, 128, 129, 300, 40000)) {
            add("jmp %L\n.skip " + gap + "\n%L:", (a, ext) -> {
                Label l = new Label();
                a.jmp(l).db(new byte[gap]).bind(l);
            });
            add("jne %L\n.skip " + gap + "\n%L:", (a, ext) -> {
                Label l = new Label();
                a.jcc(Cond.NE, l).db(new byte[gap]).bind(l);
            });
            add("%L:\n.skip " + gap + "\njmp %L", (a, ext) -> {
                Label l = new Label();
                a.bind(l).db(new byte[gap]).jmp(l);
            });
            add("%L:\n.skip " + gap + "\njl %L", (a, ext) -> {
                Label l = new Label();
                a.bind(l).db(new byte[gap]).jcc(Cond.L, l);
            });
        }
        for (int pad : List.of(0, 1, 7, 15)) {
            add(".skip " + pad + "\n.p2align 4, 0xcc\n.byte 1\n.p2align 3, 0", (a, ext) ->
                    a.db(new byte[pad]).align(16, 0xCC).db(1).align(8, 0));
            add("jmp %L\n.skip " + (120 + pad) + "\n.p2align 3, 0xcc\n%L:", (a, ext) -> {
                Label l = new Label();
                a.jmp(l).db(new byte[120 + pad]).align(8, 0xCC).bind(l);
            });
        }
        if (mode == Mode.PROTECTED32) {
            add("mov eax, 1\njmp %L\n.code64\n%L:\nmov rax, rbx\njmp %M\n%M:\n.code32", (a, ext) -> {
                Label l = new Label();
                Label m = new Label();
                a.mov(EAX, 1).jmp(l).setMode(Mode.LONG64).bind(l).mov(RAX, RBX).jmp(m).bind(m);
            });
        }
        if (mode == Mode.REAL16) {
            add("mov eax, cr0\ndata32 ljmp 0x8:%L\n.code32\n%L:\nmov ax, 0x10\nmov ds, ax\n.code16", (a, ext) -> {
                Label l = new Label();
                a.mov(EAX, CtrlReg.CR0).jmpFar(8, l, 32).setMode(Mode.PROTECTED32).bind(l).mov(AX, 0x10).mov(SegReg.DS, AX);
            });
        }
        // A chain where growing one jump pushes the next one out of short range.
        add("jmp %L\nje %M\n.skip 123\n%L:\n.skip 2\n%M:\njmp %L", (a, ext) -> {
            Label l = new Label();
            Label m = new Label();
            a.jmp(l).jcc(Cond.E, m).db(new byte[123]).bind(l).db(new byte[2]).bind(m).jmp(l);
        });
        add("je %M\njmp %L\n.skip 124\n%L:\n%M:", (a, ext) -> {
            Label l = new Label();
            Label m = new Label();
            a.jcc(Cond.E, m).jmp(l).db(new byte[124]).bind(l).bind(m);
        });
        add("je %M\n%L:\njmp %L\n.skip 123\njmp %L\n%M:", (a, ext) -> {
            Label l = new Label();
            Label m = new Label();
            a.jcc(Cond.E, m).bind(l).jmp(l).db(new byte[123]).jmp(l).bind(m);
        });
        if (long64()) {
            add("lea rax, [rip+%L]\n.skip 10\n%L:", (a, ext) -> {
                Label l = new Label();
                a.lea(RAX, Mem.rip(l)).db(new byte[10]).bind(l);
            });
            add("%L:\n.skip 10\nmov dword ptr [rip+%L+4], 7", (a, ext) -> {
                Label l = new Label();
                a.bind(l).db(new byte[10]).mov(Mem.rip(l).disp(4).m32(), 7);
            });
            add("jmp %L\n%M:\nlea rax, [rip+%M]\n.skip 200\n%L:", (a, ext) -> {
                Label l = new Label();
                Label m = new Label();
                a.jmp(l).bind(m).lea(RAX, Mem.rip(m)).db(new byte[200]).bind(l);
            });
        }
    }

    private void atomicForms() {
        for (int bits : widths()) {
            for (Reg r : someRegs(bits)) {
                for (Reg s : someRegs(bits)) {
                    if (!conflict(r, s)) {
                        add("cmpxchg " + r + ", " + s, (a, ext) -> a.cmpxchg(r, s));
                        add("xadd " + r + ", " + s, (a, ext) -> a.xadd(r, s));
                    }
                }
                for (MemCase m0 : someMems()) {
                    if (conflict(r, m0)) {
                        continue;
                    }
                    MemCase m = sized(m0, bits);
                    add("cmpxchg " + m.gnu() + ", " + r, (a, ext) -> a.cmpxchg(m.mem().make(ext), r));
                    add("lock cmpxchg " + m.gnu() + ", " + r, (a, ext) -> a.lock().cmpxchg(m.mem().make(ext), r));
                    add("lock xadd " + m.gnu() + ", " + r, (a, ext) -> a.lock().xadd(m.mem().make(ext), r));
                    add("lock add " + m.gnu() + ", " + r, (a, ext) -> a.lock().add(m.mem().make(ext), r));
                    add("lock xchg " + m.gnu() + ", " + r, (a, ext) -> a.lock().xchg(m.mem().make(ext), r));
                }
            }
            for (MemCase m0 : someMems()) {
                MemCase m = sized(m0, bits);
                add("lock inc " + m.gnu(), (a, ext) -> a.lock().inc(m.mem().make(ext)));
                add("lock dec " + m.gnu(), (a, ext) -> a.lock().dec(m.mem().make(ext)));
                add("lock or " + m.gnu() + ", 4", (a, ext) -> a.lock().or(m.mem().make(ext), 4));
                add("lock and " + m.gnu() + ", -2", (a, ext) -> a.lock().and(m.mem().make(ext), -2));
                long big = bits == 8 ? 100 : 1000;
                add("lock sub " + m.gnu() + ", " + big, (a, ext) -> a.lock().sub(m.mem().make(ext), big));
                add("lock neg " + m.gnu(), (a, ext) -> a.lock().neg(m.mem().make(ext)));
                if (bits != 8) {
                    add("lock bts " + m.gnu() + ", 3", (a, ext) -> a.lock().bts(m.mem().make(ext), 3));
                }
            }
        }
        op0("movsb", Assembler::movsb);
        op0("movsw", Assembler::movsw);
        op0("movsd", Assembler::movsd);
        op0("stosb", Assembler::stosb);
        op0("stosw", Assembler::stosw);
        op0("stosd", Assembler::stosd);
        op0("lodsb", Assembler::lodsb);
        op0("lodsw", Assembler::lodsw);
        op0("lodsd", Assembler::lodsd);
        add("rep movsb", (a, ext) -> a.rep().movsb());
        add("rep movsd", (a, ext) -> a.rep().movsd());
        add("rep stosb", (a, ext) -> a.rep().stosb());
        add("rep stosw", (a, ext) -> a.rep().stosw());
        if (long64()) {
            op0("movsq", Assembler::movsq);
            op0("stosq", Assembler::stosq);
            op0("lodsq", Assembler::lodsq);
            add("rep movsq", (a, ext) -> a.rep().movsq());
            add("rep stosq", (a, ext) -> a.rep().stosq());
        }
    }

    private void ioForms() {
        for (Reg acc : List.of(AL, AX, EAX)) {
            for (int port : List.of(0, 0x60, 0xF4, 0xFF)) {
                add("in " + acc + ", " + port, (a, ext) -> a.in(acc, port));
                add("out " + port + ", " + acc, (a, ext) -> a.out(port, acc));
            }
            add("in " + acc + ", dx", (a, ext) -> a.in(acc, DX));
            add("out dx, " + acc, (a, ext) -> a.out(DX, acc));
        }
    }

    private void systemForms() {
        op0("cli", Assembler::cli);
        op0("sti", Assembler::sti);
        op0("hlt", Assembler::hlt);
        op0("pause", Assembler::pause);
        op0("rdmsr", Assembler::rdmsr);
        op0("wrmsr", Assembler::wrmsr);
        op0("cpuid", Assembler::cpuid);
        op0("rdtsc", Assembler::rdtsc);
        op0("rdtscp", Assembler::rdtscp);
        op0("mfence", Assembler::mfence);
        op0("lfence", Assembler::lfence);
        op0("sfence", Assembler::sfence);
        op0("ud2", Assembler::ud2);
        op0("clts", Assembler::clts);
        op0("wbinvd", Assembler::wbinvd);
        op0("nop", Assembler::nop);
        op0("cld", Assembler::cld);
        op0("std", Assembler::std);
        op0("clc", Assembler::clc);
        op0("stc", Assembler::stc);
        if (!long64()) {
            for (MemCase m : someMems()) {
                add("lgdt " + sized(m, 48).gnu(), (a, ext) -> a.lgdt(m.mem().make(ext).size(48)));
                add("lidt " + sized(m, 48).gnu(), (a, ext) -> a.lidt(m.mem().make(ext).size(48)));
            }
        }
        if (long64()) {
            op0("swapgs", Assembler::swapgs);
        }
        for (MemCase m : mems()) {
            add("lgdt " + m.gnu(), (a, ext) -> a.lgdt(m.mem().make(ext)));
            add("lidt " + m.gnu(), (a, ext) -> a.lidt(m.mem().make(ext)));
            add("sgdt " + m.gnu(), (a, ext) -> a.sgdt(m.mem().make(ext)));
            add("sidt " + m.gnu(), (a, ext) -> a.sidt(m.mem().make(ext)));
            add("invlpg " + sized(m, 8).gnu(), (a, ext) -> a.invlpg(m.mem().make(ext)));
            add("ltr " + sized(m, 16).gnu(), (a, ext) -> a.ltr(m.mem().make(ext).m16()));
        }
        for (Reg r : regs(16)) {
            add("ltr " + r, (a, ext) -> a.ltr(r));
            add("lldt " + r, (a, ext) -> a.lldt(r));
        }
    }

    private void dataForms() {
        add(".byte 1, 255, -1, 0x80", (a, ext) -> a.db(1, 255, -1, 0x80));
        add(".word 0x1234, -1, 65535", (a, ext) -> a.dw(0x1234, -1, 65535));
        add(".long 0xdeadbeef, -2", (a, ext) -> a.dd(0xdeadbeefL, -2));
        add(".quad 0x123456789abcdef0, -3", (a, ext) -> a.dq(0x123456789abcdef0L, -3));
        add(".ascii \"Hello from jkvm\"", (a, ext) -> a.ascii("Hello from jkvm"));
        add(".asciz \"x\"", (a, ext) -> a.asciz("x"));
        add(".quad ext", (a, ext) -> a.dq(ext));
        add(".quad ext+16", (a, ext) -> a.dq(ext, 16));
        add(".long ext", (a, ext) -> a.dd(ext));
        add(".long ext+8", (a, ext) -> a.dd(ext, 8));
        add(".word ext+2", (a, ext) -> a.dw(ext, 2));
    }
}
