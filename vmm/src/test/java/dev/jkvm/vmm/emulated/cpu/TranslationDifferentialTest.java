package dev.jkvm.vmm.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.klib.asm.Mode;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Translated blocks ({@link BlockTranslator}) against the interpreter: thousands of random
 * programs from the lockstep tests' generator, straight-line and wrapped in loops (self-looping
 * blocks when the body has no branch), some faulting at a chosen instruction or iteration, some
 * storing into their own code page, each run on two identical machines — translation off, and
 * translation of every block from its first execution — and compared whole: registers, RFLAGS,
 * CR2, instructions retired, the data buffer, and the stack (where every instruction group's
 * flags and the exception frame of a fault, with its RIP and error code, were pushed).
 */
class TranslationDifferentialTest {
    static final long GDT = 0x1000, IDT = 0x3000, TSS = 0x5000, IST_STACK = 0x17F400, PML4 = 0x10000, HANDLER = 0x100000, STACK_TOP = 0x180000,
            CODE = 0x200000, BUFFER = 0x3FE000, UNMAPPED = 0x400000;
    static final int STACK_BYTES = 0x1000, BUFFER_BYTES = 4096;

    /** RandomProgram.generate(Random, int, long, boolean, Mode, int): package-private in the lockstep tests, reached reflectively rather than copied. */
    private static final Method GENERATE;
    static {
        try {
            GENERATE = Class.forName("dev.jkvm.vmm.emulated.lockstep.RandomProgram").getDeclaredMethod("generate",
                    Random.class, int.class, long.class, boolean.class, Mode.class, int.class);
            GENERATE.setAccessible(true);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * With {@code observeFlags} a PUSHF follows every instruction group; without, the flags reach
     * the compared state only through flag readers (Jcc, SETcc, CMOVcc, ADC/SBB, PUSHF), a fault's
     * exception frame and the final RFLAGS, so translated code keeps them pending in locals
     * ({@link PendingFlags}) across instructions and blocks.
     */
    static byte[] generate(Random rnd, int length, long address, boolean observeFlags) {
        try {
            return (byte[]) GENERATE.invoke(null, rnd, length, address, observeFlags, Mode.LONG64, 3);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * One machine: 4 MiB identity-mapped by two 2 MiB pages (above: not present, for #PF), an IDT
     * whose every gate leads to OUT 0xF4; #PF's gate switches to IST1 (in the compared stack page),
     * so a push or pop with RSP not present is delivered (SDM Vol. 3 §6.14.5) and its frame compared.
     */
    static final class Machine {
        final TestMachine m = new TestMachine(4 << 20);
        final X86Cpu cpu = m.cpu(0);

        Machine(String translation) {
            PhysicalMemory mem = m.mem;
            mem.write(GDT + 0x08, 8, TestMachine.code64(0));
            mem.write(GDT + 0x10, 8, TestMachine.data(0));
            mem.write(PML4, 8, 0x11000 | 3);
            mem.write(0x11000, 8, 0x12000 | 3);
            for (int i = 0; i < 2; i++) mem.write(0x12000 + i * 8L, 8, (i * 0x200000L) | 0x83);
            for (int v = 0; v < 32; v++) {
                long ist = v == CpuException.PF ? 1 : 0;
                long lo = (HANDLER & 0xFFFF) | (0x08L << 16) | (ist << 32) | (0xEL << 40) | (1L << 47) | ((HANDLER >>> 16) << 48);
                mem.write(IDT + v * 16L, 8, lo);
                mem.write(IDT + v * 16L + 8, 8, 0);
            }
            mem.write(TSS + 0x24, 8, IST_STACK);
            mem.write(HANDLER, 1, 0xE6);
            mem.write(HANDLER + 1, 1, 0xF4);
            cpu.executor.translation(translation);
        }

        /** Runs the program until the OUT to port 0xF4; returns the final state as text for comparison. */
        String run(byte[] code, byte[] buffer, byte[] stack, long[] gpr, long rflags, long[] xmm) {
            PhysicalMemory mem = m.mem;
            for (int i = 0; i < code.length; i++) mem.write(CODE + i, 1, code[i] & 0xFF);
            for (int i = 0; i < buffer.length; i++) mem.write(BUFFER + i, 1, buffer[i] & 0xFF);
            for (int i = 0; i < stack.length; i++) mem.write(STACK_TOP - STACK_BYTES + i, 1, stack[i] & 0xFF);
            TestMachine.longMode(cpu, PML4, 0x08, 0x10, 0);
            CpuState s = cpu.s;
            s.gdtBase = GDT;
            s.gdtLimit = 0x17;
            s.idtBase = IDT;
            s.idtLimit = 32 * 16 - 1;
            s.segBase[CpuState.TR] = TSS;
            s.segLimit[CpuState.TR] = 0x67;
            s.cr2 = 0;
            s.cr4 |= 0x600; // OSFXSR, OSXMMEXCPT: the generator emits SSE (SDM Vol. 3 §13.1.3)
            System.arraycopy(gpr, 0, s.gpr, 0, 16);
            System.arraycopy(xmm, 0, s.xmm, 0, 32);
            s.rip = CODE;
            cpu.setRflags(rflags);
            long retiredBefore = cpu.executor.retired;
            CpuExit e = null;
            for (int i = 0; i < 1000; i++) {
                e = cpu.run();
                if (e.kind == CpuExit.Kind.PORT_OUT && e.port == 0xF4) break;
                if (e.kind != CpuExit.Kind.PORT_OUT) break;
            }
            StringBuilder b = new StringBuilder();
            b.append("exit ").append(e.kind).append(' ').append(e.reason).append(" port ").append(Integer.toHexString(e.port)).append('\n');
            b.append("rip ").append(Long.toHexString(s.rip)).append(" rflags ").append(Long.toHexString(Flags.get(s)))
                    .append(" cr2 ").append(Long.toHexString(s.cr2)).append(" retired ").append(cpu.executor.retired - retiredBefore).append('\n');
            for (int r = 0; r < 16; r++) b.append("r").append(r).append(' ').append(Long.toHexString(s.gpr[r])).append('\n');
            for (int x = 0; x < 32; x++) b.append(Long.toHexString(s.xmm[x])).append(x % 4 == 3 ? '\n' : ' ');
            dump(b, "buffer", BUFFER, BUFFER_BYTES);
            dump(b, "stack", STACK_TOP - STACK_BYTES, STACK_BYTES);
            dump(b, "code", CODE, code.length);
            return b.toString();
        }

        private void dump(StringBuilder b, String name, long at, int length) {
            b.append(name).append(':');
            for (int i = 0; i < length; i += 8) {
                long v = m.mem.read(at + i, 8);
                if (v != 0) b.append(' ').append(Integer.toHexString(i)).append('=').append(Long.toHexString(v));
            }
            b.append('\n');
        }
    }

    /** How a program is wrapped. */
    enum Shape { STRAIGHT, LOOP, FAULTING_STRAIGHT, FAULTING_LOOP, SELF_MODIFYING_LOOP }

    record Program(Shape shape, byte[] code, byte[] buffer, byte[] stack, long[] gpr, long rflags, long[] xmm) {}

    static Program program(long seed) {
        Random rnd = new Random(seed);
        Shape shape = Shape.values()[rnd.nextInt(Shape.values().length)];
        boolean loop = shape == Shape.LOOP || shape == Shape.FAULTING_LOOP || shape == Shape.SELF_MODIFYING_LOOP;
        long buffer = shape == Shape.SELF_MODIFYING_LOOP ? CODE + 0x600 : BUFFER;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long r14 = rnd.nextInt(4);
        int iterations = 2 + rnd.nextInt(12);
        if (loop) {
            // mov r14d, start (the generator's index register: its memory operands stay in the buffer while r14 < 16)
            out.write(0x41); out.write(0xBE); le(out, r14, 4);
        }
        long bodyAt = CODE + out.size();
        byte[] body = generate(rnd, loop ? 2 + rnd.nextInt(30) : 5 + rnd.nextInt(150), bodyAt, rnd.nextBoolean());
        if (shape == Shape.SELF_MODIFYING_LOOP && out.size() + body.length + 32 > 0x600) {
            shape = Shape.LOOP;
            buffer = BUFFER;
        }
        out.writeBytes(body);
        if (rnd.nextBoolean()) {
            // RIP-relative operands, inlined (LEA, MOV r64) and the interpreter's (a 16-bit MOV): RIP must be right there.
            out.write(0x48); out.write(0x8D); out.write(0x05); le(out, rnd.nextInt(64) - 32, 4);      // lea rax, [rip + d]
            out.write(0x48); out.write(0x8B); out.write(0x1D); le(out, -rnd.nextInt(64), 4);          // mov rbx, [rip + d]
            out.write(0x66); out.write(0x8B); out.write(0x0D); le(out, -rnd.nextInt(64), 4);          // mov cx, [rip + d]
        }
        if (shape == Shape.FAULTING_STRAIGHT) {
            switch (rnd.nextInt(6)) {
                case 0 -> { out.write(0x0F); out.write(0x0B); } // ud2: #UD
                case 3 -> {
                    // mov rax, 1 << 63; cqo; mov rcx, -1; idiv rcx: the quotient 2^63 does not fit, #DE (SDM Vol. 2A IDIV)
                    out.write(0x48); out.write(0xB8); le(out, Long.MIN_VALUE, 8);
                    out.write(0x48); out.write(0x99);
                    out.write(0x48); out.write(0xC7); out.write(0xC1); le(out, -1, 4);
                    out.write(0x48); out.write(0xF7); out.write(0xF9);
                }
                case 5 -> {
                    // mov rsp, not present; then push rbx, call, pop rax or ret: #PF with RSP as before (SDM Vol. 2B PUSH, POP)
                    out.write(0x48); out.write(0xC7); out.write(0xC4); le(out, UNMAPPED + 0x800 + 8 * rnd.nextInt(64), 4);
                    switch (rnd.nextInt(4)) {
                        case 0 -> out.write(0x53);
                        case 1 -> { out.write(0xE8); le(out, 0, 4); }
                        case 2 -> out.write(0x58);
                        default -> out.write(0xC3);
                    }
                }
                case 4 -> { out.write(0x31); out.write(0xC9); out.write(0x48); out.write(0xF7); out.write(0xF1); } // xor ecx, ecx; div rcx: #DE
                case 1 -> { out.write(0x48); out.write(0x8B); out.write(0x04); out.write(0x25); le(out, UNMAPPED + rnd.nextInt(0x1000), 4); } // mov rax, [abs]: #PF
                default -> { out.write(0x48); out.write(0x89); out.write(0x1C); out.write(0x25); le(out, UNMAPPED + rnd.nextInt(0x1000), 4); } // mov [abs], rbx: #PF
            }
        }
        if (shape == Shape.FAULTING_LOOP) {
            // mov rax, [r15 + r14*8 + d]: not present once r14 reaches k (SDM Vol. 3 §4.7, #PF)
            long k = r14 + rnd.nextInt(iterations + 1);
            out.write(0x4B); out.write(0x8B); out.write(0x84); out.write(0xF7); le(out, UNMAPPED - buffer - 8 * k, 4);
        }
        if (loop) {
            // inc r14; cmp r14, start + iterations; jne body
            out.write(0x49); out.write(0xFF); out.write(0xC6);
            out.write(0x49); out.write(0x83); out.write(0xFE); out.write((int) (r14 + iterations));
            long next = CODE + out.size() + 6;
            out.write(0x0F); out.write(0x85); le(out, bodyAt - next, 4);
        }
        out.write(0xE6); out.write(0xF4); // out 0xF4, al
        byte[] data = new byte[BUFFER_BYTES];
        rnd.nextBytes(data);
        byte[] stack = new byte[STACK_BYTES];
        rnd.nextBytes(stack);
        long[] gpr = new long[16];
        for (int r = 0; r < 16; r++) gpr[r] = rnd.nextInt(4) == 0 ? rnd.nextInt(64) - 32 : rnd.nextLong();
        gpr[CpuState.RSP] = STACK_TOP - 0x100;
        gpr[14] = r14;
        gpr[15] = buffer;
        long rflags = 0x2 | (rnd.nextLong() & Flags.ARITH) | (rnd.nextInt(4) == 0 ? Flags.DF : 0);
        long[] xmm = new long[32];
        for (int x = 0; x < 32; x++) xmm[x] = rnd.nextInt(4) == 0 ? 0 : rnd.nextLong();
        if (shape == Shape.SELF_MODIFYING_LOOP) {
            // The buffer shares the code's page: the program's own stores invalidate its decoded blocks.
            data = Arrays.copyOf(data, 0);
        }
        return new Program(shape, out.toByteArray(), data, stack, gpr, rflags, xmm);
    }

    private static void le(ByteArrayOutputStream out, long v, int bytes) {
        for (int i = 0; i < bytes; i++) out.write((int) (v >>> (8 * i)));
    }

    /**
     * A guest loop longer than one run's budget (X86Cpu's 20,000 instructions) with a forward
     * branch inside: translated after two executions of a block, one region covers the loop's
     * blocks, and each budget exit leaves it at a block transfer, so the run loop resumes at the
     * loop's head or in the region's middle (BlockTranslator's entry per block). Returns the code
     * at CODE: {@code mov ecx, n; top: mov rax, rcx; and eax, m; jnz skip; add rbx, rcx;
     * lea rdx, [rbx + rbx * 2]; skip: xor rsi, rax; add rdi, rsi; sub rcx, 1; jnz top; out 0xF4, al}.
     */
    static byte[] longLoop(Random rnd) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0xB9); le(out, 20_000 + rnd.nextInt(20_000), 4);
        int top = out.size();
        out.writeBytes(new byte[] {0x48, (byte) 0x89, (byte) 0xC8});
        out.writeBytes(new byte[] {(byte) 0x83, (byte) 0xE0, (byte) (1 + rnd.nextInt(7))});
        out.writeBytes(new byte[] {0x75, 7});
        out.writeBytes(new byte[] {0x48, 0x01, (byte) 0xCB});
        out.writeBytes(new byte[] {0x48, (byte) 0x8D, 0x14, 0x5B});
        out.writeBytes(new byte[] {0x48, 0x31, (byte) 0xC6});
        out.writeBytes(new byte[] {0x48, 0x01, (byte) 0xF7});
        out.writeBytes(new byte[] {0x48, (byte) 0x83, (byte) 0xE9, 0x01});
        out.write(0x75); out.write(top - (out.size() + 1));
        out.write(0xE6); out.write(0xF4);
        return out.toByteArray();
    }

    /** Registers the flag chains use: not RSP (4), not R14 (their loop counter). */
    private static final int[] CHAIN_REGS = {0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15};

    /**
     * A loop of register-only flag writers and readers at 32 and 64 bits, with no PUSHF between
     * them: ADD/OR/AND/SUB/XOR/CMP (register and imm8), TEST, IMUL, INC/DEC (which keep CF), then
     * ADC/SBB, SETcc, CMOVcc, a Jcc over one instruction, or PUSHF; POP. Translated, their flags
     * stay pending in locals across instructions and blocks ({@link PendingFlags}), so each writer's
     * flags reach a reader of every kind from the locals.
     */
    static byte[] flagChain(Random rnd) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x41); out.write(0xBE); le(out, 3 + rnd.nextInt(10), 4); // mov r14d, n
        int top = out.size();
        int n = 8 + rnd.nextInt(40);
        for (int i = 0; i < n; i++) {
            int d = CHAIN_REGS[rnd.nextInt(CHAIN_REGS.length)], r = CHAIN_REGS[rnd.nextInt(CHAIN_REGS.length)];
            boolean wide = rnd.nextBoolean();
            int rex = 0x40 | (wide ? 8 : 0) | (r >= 8 ? 4 : 0) | (d >= 8 ? 1 : 0), modrm = 0xC0 | (r & 7) << 3 | (d & 7);
            int rexD = 0x40 | (wide ? 8 : 0) | (d >= 8 ? 1 : 0);
            switch (rnd.nextInt(10)) {
                case 0, 1 -> { out.write(rex); out.write(new int[] {0x01, 0x09, 0x21, 0x29, 0x31, 0x39}[rnd.nextInt(6)]); out.write(modrm); }
                case 2 -> { out.write(rexD); out.write(0x83); out.write(0xC0 | new int[] {0, 1, 4, 5, 6, 7}[rnd.nextInt(6)] << 3 | (d & 7)); out.write(rnd.nextInt(256)); }
                case 3 -> { out.write(rex); out.write(0x85); out.write(modrm); }
                case 4 -> { out.write(0x40 | (wide ? 8 : 0) | (d >= 8 ? 4 : 0) | (r >= 8 ? 1 : 0)); out.write(0x0F); out.write(0xAF); out.write(0xC0 | (d & 7) << 3 | (r & 7)); }
                case 5 -> { out.write(rexD); out.write(0xFF); out.write(0xC0 | rnd.nextInt(2) << 3 | (d & 7)); }
                case 6 -> { out.write(rex); out.write(rnd.nextBoolean() ? 0x11 : 0x19); out.write(modrm); }
                case 7 -> {
                    if (rnd.nextBoolean()) { out.write(0x40 | (d >= 8 ? 1 : 0)); out.write(0x0F); out.write(0x90 + rnd.nextInt(16)); out.write(0xC0 | (d & 7)); }
                    else { out.write(0x40 | (wide ? 8 : 0) | (d >= 8 ? 4 : 0) | (r >= 8 ? 1 : 0)); out.write(0x0F); out.write(0x40 + rnd.nextInt(16)); out.write(0xC0 | (d & 7) << 3 | (r & 7)); }
                }
                case 8 -> { out.write(0x70 + rnd.nextInt(16)); out.write(3); out.write(rexD | 8); out.write(0xFF); out.write(0xC0 | (d & 7)); } // jcc over inc d
                default -> { out.write(0x9C); if (d >= 8) out.write(0x41); out.write(0x58 + (d & 7)); } // pushf; pop d
            }
        }
        out.write(0x49); out.write(0xFF); out.write(0xCE); // dec r14
        out.write(0x0F); out.write(0x85); le(out, top - (out.size() + 4), 4); // jnz top
        out.write(0xE6); out.write(0xF4);
        return out.toByteArray();
    }

    @Test
    void flagChainsAgreeWithTheInterpreter() {
        Machine off = new Machine("off");
        Machine always = new Machine("always");
        Machine regions = new Machine("off");
        regions.cpu.executor.translationThreshold(2);
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < 600 && failures.size() < 3; i++) {
            Random rnd = new Random(0xF1A6_0000L + i);
            byte[] code = flagChain(rnd);
            long[] gpr = new long[16];
            for (int r = 0; r < 16; r++) gpr[r] = rnd.nextInt(4) == 0 ? rnd.nextInt(64) - 32 : rnd.nextLong();
            gpr[CpuState.RSP] = STACK_TOP - 0x100;
            long rflags = 0x2 | (rnd.nextLong() & Flags.ARITH);
            byte[] none = new byte[0];
            String a = off.run(code, none, none, gpr, rflags, new long[32]);
            String b = always.run(code, none, none, gpr, rflags, new long[32]);
            String c = regions.run(code, none, none, gpr, rflags, new long[32]);
            if (!a.startsWith("exit PORT_OUT null port f4")) failures.add("chain " + i + " did not end at its OUT:\n" + a);
            if (!a.equals(b)) failures.add("chain " + i + " differs:\n--- interpreted\n" + a + "--- translated\n" + b);
            if (!a.equals(c)) failures.add("chain " + i + " differs (regions):\n--- interpreted\n" + a + "--- translated\n" + c);
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    @Test
    void regionsEnteredInTheirMiddleAgreeWithTheInterpreter() {
        Machine off = new Machine("off");
        Machine on = new Machine("off");
        on.cpu.executor.translationThreshold(2);
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < 20 && failures.size() < 3; i++) {
            Random rnd = new Random(0x3A1D_0000L + i);
            byte[] code = longLoop(rnd);
            long[] gpr = new long[16];
            for (int r = 0; r < 16; r++) gpr[r] = rnd.nextLong();
            gpr[CpuState.RSP] = STACK_TOP - 0x100;
            long rflags = 0x2 | (rnd.nextLong() & Flags.ARITH);
            byte[] none = new byte[0];
            String a = off.run(code, none, none, gpr, rflags, new long[32]);
            String b = on.run(code, none, none, gpr, rflags, new long[32]);
            if (!a.startsWith("exit PORT_OUT null port f4")) failures.add("loop " + i + " did not end at its OUT:\n" + a);
            if (!a.equals(b)) failures.add("loop " + i + " differs:\n--- interpreted\n" + a + "--- translated\n" + b);
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        assertTrue(on.cpu.executor.cache().translatedBlocks > 1, "the loop was not translated");
    }

    @Test
    void translatedBlocksAgreeWithTheInterpreter() {
        Machine off = new Machine("off");
        Machine always = new Machine("always");
        int programs = Integer.getInteger("jkvm.test.translationPrograms", 2000);
        int[] shapes = new int[Shape.values().length];
        int faulted = 0;
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < programs && failures.size() < 3; i++) {
            Program p = program(0x7EA1_0000L + i);
            String a = off.run(p.code, p.buffer, p.stack, p.gpr, p.rflags, p.xmm);
            String b = always.run(p.code, p.buffer, p.stack, p.gpr, p.rflags, p.xmm);
            shapes[p.shape.ordinal()]++;
            if (!a.startsWith("exit PORT_OUT null port f4")) failures.add("program " + i + " did not end at its OUT:\n" + a);
            if (a.contains("rip 100002")) {
                faulted++;
                if (p.shape == Shape.STRAIGHT && Boolean.getBoolean("jkvm.test.translationDebug")) {
                    long sp = off.cpu.s.gpr[CpuState.RSP];
                    System.out.println("program " + i + " faulted at " + Long.toHexString(off.m.mem.read(sp, 8)) + " / "
                            + Long.toHexString(off.m.mem.read(sp + 8, 8)) + " cr2 " + Long.toHexString(off.cpu.s.cr2));
                }
            }
            if (!a.equals(b)) failures.add("program " + i + " (" + p.shape + ") differs:\n--- interpreted\n" + a + "--- translated\n" + b);
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        assertTrue(always.cpu.executor.cache().translatedBlocks > 0 || always.cpu.executor.cache().size() > 0);
        System.out.println("translation differential: " + programs + " programs by shape " + Arrays.toString(shapes)
                + ", " + faulted + " faulted");
        assertTrue(faulted > programs / 10, "too few faulting programs: " + faulted);
        assertEquals(0, off.cpu.executor.cache().translatedBlocks);
    }
}
