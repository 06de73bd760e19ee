package dev.jkvm.vmm.emulated.cpu;

import static java.lang.constant.ConstantDescs.CD_boolean;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_long;
import static java.lang.constant.ConstantDescs.CD_void;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.classfile.instruction.SwitchCase;
import java.lang.classfile.TypeKind;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.DynamicConstantDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;

/**
 * Translates hot 64-bit {@link DecodedBlock}s to JVM bytecode with the JDK's class-file API
 * (JEP 484), one hidden class per {@link TranslationRegion} defined in this package (so the
 * generated code calls the executor's package-private entries) with the region's {@link Insn}s as
 * class data (loaded as dynamic constants, which the JIT folds), and one instance per block of the
 * region, each entering the method at its block.
 *
 * <p>The generated {@code run} keeps the interpreter's contract exactly: RIP is stored before
 * each instruction; each instruction's bytecode range has its own exception handler that tells
 * the executor how many instructions retired and where the faulting one starts; after an
 * instruction that may store, the {@link CodePages#invalidations} check ends the block when its
 * own page was written. Families with a register or simple memory form are emitted inline by
 * {@link InlineEmitter}, their flags kept in locals until read ({@link PendingFlags}); every other
 * instruction is a call to {@link Executor#execute} with its Insn. Control goes from block to
 * block of the region inside the method, with the run loop's checks ({@code Body.loopChecks}).
 *
 * <p>Only 64-bit code is translated: 16- and 32-bit blocks need the per-entry CS-limit check and
 * RIP wrap-around, and stay interpreted (they run once at boot).
 */
final class BlockTranslator {
    /** {@code jkvm.emulated.translate}: on (translate blocks entered {@link #THRESHOLD} times), off, always (threshold 0, for tests). */
    static final String PROPERTY = "jkvm.emulated.translate";
    /**
     * Executions of a block before it is translated ({@code jkvm.emulated.translate.threshold}): a
     * block run fewer times costs more to translate and JIT-compile than it saves. Measured on the
     * default workload at 2 vCPUs: whole-launch CPU seconds 16.7 at 50, 17.7 at 1000, 13.4 at
     * 10000, 13.7 at 100000 (HotSpot's C2 time halves); a loop still interpreted counts one
     * execution per iteration, so a hot loop is translated within its first 10000 iterations.
     */
    static final int THRESHOLD = Integer.getInteger("jkvm.emulated.translate.threshold", 10_000);
    /**
     * Live translated blocks per vCPU's {@link DecodedCache} (each a hidden class of at most
     * {@link DecodedCache#MAX_BLOCK} instructions, a few KiB with its compiled code): beyond this
     * the vCPU interprets the rest until the cache starts over. Hidden classes are not strongly
     * held by their loader, so a block dropped from the caches takes its class with it.
     */
    static final int MAX_TRANSLATED = 4096;

    enum Mode { OFF, ON, ALWAYS }

    static final ClassDesc CD_EXECUTOR = desc(Executor.class), CD_STATE = desc(CpuState.class),
            CD_FLAGS = desc(LazyFlags.class), CD_PAGES = desc(CodePages.class), CD_MMU = desc(Mmu.class),
            CD_INSN = desc(Insn.class), CD_CPU = desc(X86Cpu.class), CD_BLOCK = desc(TranslatedBlock.class),
            CD_EXCEPTION = desc(CpuException.class), CD_FLAGS_OPS = desc(Flags.class);
    static final ClassDesc CD_LONGS = CD_long.arrayType();
    private static final MethodTypeDesc RUN = MethodTypeDesc.of(CD_long, CD_EXECUTOR, CD_long, CD_long);
    /** The generated class's field: which block of the region an instance enters at. */
    private static final String ENTRY = "entry";

    private static final ClassFile CLASS_FILE = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(
            ClassHierarchyResolver.defaultResolver().orElse(
                    ClassHierarchyResolver.ofClassLoading(BlockTranslator.class.getClassLoader()))));

    private static ClassDesc desc(Class<?> c) {
        return ClassDesc.of(c.getName());
    }

    final Mode mode;
    final int threshold;

    BlockTranslator(Mode mode) {
        this(mode, mode == Mode.ALWAYS ? 0 : THRESHOLD);
    }

    BlockTranslator(Mode mode, int threshold) {
        this.mode = mode;
        this.threshold = threshold;
    }

    /** The mode named by the system property; one line naming the accepted values when it is misspelt. */
    static Mode modeFromProperty() {
        return parse(System.getProperty(PROPERTY, "on"));
    }

    static Mode parse(String value) {
        return switch (value) {
            case "on" -> Mode.ON;
            case "off" -> Mode.OFF;
            case "always" -> Mode.ALWAYS;
            default -> throw new IllegalArgumentException(
                    "-D" + PROPERTY + "=" + value + " is not a translation mode: use on, off or always");
        };
    }

    /** Translates {@code block} (64-bit code) with its region; {@link TranslatedBlock#INTERPRET} when the bounds say no. */
    TranslatedBlock translate(DecodedBlock block, DecodedCache cache, CodePages pages) {
        if (cache.translatedBlocks >= MAX_TRANSLATED) return TranslatedBlock.INTERPRET;
        TranslatedBlock shared = pages.translations.get(block);
        if (shared != null) {
            cache.translatedBlocks++;
            return shared;
        }
        TranslationRegion region = TranslationRegion.of(block, cache, pages);
        byte[] bytes = generate(region);
        if (codeLength(bytes) > HUGE_METHOD && region.blocks.size() > 1) {
            region = new TranslationRegion(block);
            bytes = generate(region);
        }
        TranslatedBlock[] entries = new TranslatedBlock[region.blocks.size()];
        try {
            MethodHandles.Lookup hidden = MethodHandles.lookup().defineHiddenClassWithClassData(bytes, region.insns(), true);
            MethodHandle constructor = hidden.findConstructor(hidden.lookupClass(), MethodType.methodType(void.class, int.class));
            for (int j = 0; j < entries.length; j++) entries[j] = (TranslatedBlock) constructor.invoke(j);
        } catch (Throwable e) {
            throw new IllegalStateException("translating the block at guest-physical 0x"
                    + Long.toHexString(block.physical) + " failed: " + e, e);
        }
        // Every block of the region is an entry of the same method: the run loop resumes a guest loop
        // in its middle (after a budget or event exit) without interpreting it into a second region.
        for (int j = 0; j < entries.length; j++) {
            DecodedBlock b = region.blocks.get(j);
            pages.translations.put(b, entries[j]);
            if (j > 0 && b.translated == null) {
                b.translated = entries[j];
                cache.translatedBlocks++;
            }
        }
        cache.translatedBlocks++;
        return entries[0];
    }

    /** HotSpot compiles no method longer than 8000 bytecode bytes (DontCompileHugeMethods): stay below. */
    private static final int HUGE_METHOD = 7900;

    private static int codeLength(byte[] bytes) {
        for (var m : CLASS_FILE.parse(bytes).methods()) {
            if (m.methodName().equalsString("run")) {
                return m.code().map(c -> ((java.lang.classfile.attribute.CodeAttribute) c).codeLength()).orElse(0);
            }
        }
        return 0;
    }

    /** Last instructions after which control may be back at the block's start (the self-loop test runs after them). */
    private static boolean mayBranchBack(Insn in) {
        return switch (in.handler) {
            case Handler.JCC, Handler.JMP_REL, Handler.LOOP, Handler.LOOPE, Handler.LOOPNE, Handler.JRCXZ -> true;
            default -> false;
        };
    }

    /** A Jcc or JMP with a 64-bit operand size (SDM Vol. 2A Jcc: RIP = next + rel, no masking): compiled as a branch. */
    static boolean directBranch(Insn in) {
        return (in.handler == Handler.JCC || in.handler == Handler.JMP_REL) && in.size == 8;
    }

    static byte[] generate(TranslationRegion region) {
        ClassDesc self = ClassDesc.of(BlockTranslator.class.getPackageName() + ".Translated");
        return CLASS_FILE.build(self, clb -> {
            clb.withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SUPER);
            clb.withSuperclass(CD_BLOCK);
            clb.withField(ENTRY, CD_int, ClassFile.ACC_PRIVATE | ClassFile.ACC_FINAL);
            clb.withMethodBody(ConstantDescs.INIT_NAME, MethodTypeDesc.of(CD_void, CD_int), 0, cob -> cob
                    .aload(0).invokespecial(CD_BLOCK, ConstantDescs.INIT_NAME, ConstantDescs.MTD_void)
                    .aload(0).iload(1).putfield(self, ENTRY, CD_int).return_());
            clb.withMethodBody("run", RUN, ClassFile.ACC_FINAL, cob -> new Body(cob, region, self).emit());
        });
    }

    /** The generated {@code run} method of one region: its locals and emitters. */
    static final class Body {
        final CodeBuilder cob;
        final TranslationRegion region;
        final DecodedBlock block;
        // Parameters: this 0, ex 1, rip 2-3, max 4-5.
        static final int EX = 1, RIP = 2, MAX = 4;
        final int s, g, f, pages, inv, done, mmu, a, b, r, o, thrown;
        /** The flags of the last inlined flag-setting instruction, in locals until something reads them. */
        final PendingFlags flags;
        private final Label[] starts;
        private final List<Runnable> handlerCode = new ArrayList<>();

        private final ClassDesc self;

        Body(CodeBuilder cob, TranslationRegion region, ClassDesc self) {
            this.self = self;
            this.cob = cob;
            this.region = region;
            this.block = region.blocks.get(0);
            s = cob.allocateLocal(TypeKind.REFERENCE);
            g = cob.allocateLocal(TypeKind.REFERENCE);
            f = cob.allocateLocal(TypeKind.REFERENCE);
            pages = cob.allocateLocal(TypeKind.REFERENCE);
            inv = cob.allocateLocal(TypeKind.INT);
            done = cob.allocateLocal(TypeKind.LONG);
            mmu = cob.allocateLocal(TypeKind.REFERENCE);
            a = cob.allocateLocal(TypeKind.LONG);
            b = cob.allocateLocal(TypeKind.LONG);
            r = cob.allocateLocal(TypeKind.LONG);
            o = cob.allocateLocal(TypeKind.LONG);
            flags = new PendingFlags(cob, f, cob.allocateLocal(TypeKind.LONG), cob.allocateLocal(TypeKind.LONG),
                    cob.allocateLocal(TypeKind.LONG), cob.allocateLocal(TypeKind.LONG));
            thrown = cob.allocateLocal(TypeKind.REFERENCE);
            starts = new Label[region.blocks.size()];
            for (int i = 0; i < starts.length; i++) starts[i] = cob.newLabel();
        }

        /** Loads the block's {@code k}-th Insn (a class-data constant). */
        void insn(int k) {
            cob.ldc(DynamicConstantDesc.ofNamed(ConstantDescs.BSM_CLASS_DATA_AT, ConstantDescs.DEFAULT_NAME, CD_INSN, k));
        }

        /** {@code s.rip = rip + offset} */
        void setRip(long offset) {
            cob.aload(s).lload(RIP);
            if (offset != 0) cob.ldc(offset).ladd();
            cob.putfield(CD_STATE, "rip", CD_long);
        }

        void emit() {
            cob.aload(EX).getfield(CD_EXECUTOR, "s", CD_STATE).astore(s);
            cob.aload(s).getfield(CD_STATE, "gpr", CD_LONGS).astore(g);
            cob.aload(s).getfield(CD_STATE, "flags", CD_FLAGS).astore(f);
            cob.aload(EX).getfield(CD_EXECUTOR, "pages", CD_PAGES).astore(pages);
            cob.aload(pages).getfield(CD_PAGES, "invalidations", CD_int).istore(inv);
            cob.lconst_0().lstore(done);
            flags.init();
            cob.aload(EX).getfield(CD_EXECUTOR, "cpu", CD_CPU).getfield(CD_CPU, "mmu", CD_MMU).astore(mmu);
            entry();
            int first = 0;
            for (int i = 0; i < region.blocks.size(); i++) {
                emitBlock(i, first);
                first += region.blocks.get(i).insns.length;
            }
            for (Runnable h : handlerCode) h.run();
        }

        /**
         * To the instance's entry block: {@code rip} is that block's address, and becomes the
         * region's entry block's (every offset is relative to it).
         */
        private void entry() {
            int n = region.blocks.size();
            if (n == 1) return;
            Label[] cases = new Label[n];
            List<SwitchCase> table = new ArrayList<>();
            for (int j = 0; j < n; j++) table.add(SwitchCase.of(j, cases[j] = cob.newLabel()));
            cob.aload(0).getfield(self, ENTRY, CD_int).tableswitch(0, n - 1, starts[0], table);
            for (int j = 0; j < n; j++) {
                cob.labelBinding(cases[j]);
                if (j > 0) cob.lload(RIP).ldc(region.offsets.get(j)).lsub().lstore(RIP);
                cob.goto_(starts[j]);
            }
        }

        /** Block {@code i} of the region, whose first instruction is the class data's {@code first}. */
        private void emitBlock(int i, int first) {
            Insn[] insns = region.blocks.get(i).insns;
            long base = region.offsets.get(i);
            int n = insns.length;
            cob.labelBinding(starts[i]);
            // Every jump here wrote the pending flags, or this block overwrites them before any use (transfer).
            flags.op = PendingFlags.NONE;
            long offset = base;
            InlineEmitter inline = new InlineEmitter(this);
            for (int k = 0; k < n; k++) {
                Insn in = insns[k];
                long startOffset = offset;
                offset += in.length;
                if (k == n - 1 && directBranch(in)) {
                    branch(in, base, offset, n);
                    return;
                }
                Label start = cob.newBoundLabel();
                int pendingOp = flags.op, pendingSize = flags.size;
                // RIP is stored only for the interpreter's code (relative branches, RIP-relative operands,
                // system instructions read it) and at every exit; inlined forms fold it: a fault's RIP comes
                // from the handler.
                boolean inlined = inline.emit(in, offset, first + k);
                if (!inlined) {
                    flags.materialize();
                    setRip(offset);
                    cob.aload(EX);
                    insn(first + k);
                    cob.invokevirtual(CD_EXECUTOR, "execute", MethodTypeDesc.of(CD_void, CD_INSN));
                }
                Label end = cob.newBoundLabel();
                Label handler = cob.newLabel();
                cob.exceptionCatch(start, end, handler, CD_EXCEPTION);
                int retiredBefore = k;
                handlerCode.add(() -> {
                    // Instruction k of this block faulted: k more retired in it; RIP goes back to its start.
                    cob.labelBinding(handler);
                    cob.astore(thrown);
                    flags.record(pendingOp, pendingSize);
                    cob.aload(EX).lload(done);
                    if (retiredBefore != 0) cob.ldc((long) retiredBefore).ladd();
                    cob.lload(RIP);
                    if (startOffset != 0) cob.ldc(startOffset).ladd();
                    cob.invokevirtual(CD_EXECUTOR, "translatedFault", MethodTypeDesc.of(CD_void, CD_long, CD_long));
                    cob.aload(thrown).athrow();
                });
                if (k < n - 1 && (in.attrs & Insn.A_WRITES_MEMORY) != 0) storeCheck(k, offset);
                if (k == n - 1) {
                    if (!inlined) {
                        // The interpreter's last instruction set RIP (or stopped the run: a system instruction).
                        cob.lload(done).ldc((long) n).ladd().lstore(done);
                        if (mayBranchBack(in)) {
                            Label exit = cob.newLabel();
                            cob.aload(s).getfield(CD_STATE, "rip", CD_long).lload(RIP).lcmp().ifne(exit);
                            loopChecks(0, base, exit);
                            cob.labelBinding(exit);
                        }
                        cob.lload(done).lreturn();
                    } else if (in.handler == Handler.CALL_REL || in.handler == Handler.RET) {
                        flags.materialize();
                        cob.lload(done).ldc((long) n).ladd().lreturn();
                    } else {
                        transfer(n, base, offset); // cut at the length cap or the page end: falls through
                    }
                }
            }
        }

        /** The block's last instruction, a direct Jcc/JMP: both ways go on in the region where they can. */
        private void branch(Insn in, long base, long end, int n) {
            Label fallThrough = cob.newLabel();
            if (in.handler == Handler.JCC) flags.jumpUnless(in.ext, fallThrough);
            int pendingOp = flags.op, pendingSize = flags.size;
            transfer(n, base, end + in.imm);
            if (in.handler == Handler.JCC) {
                cob.labelBinding(fallThrough);
                flags.op = pendingOp;
                flags.size = pendingSize;
                transfer(n, base, end);
            }
        }

        /**
         * After a block of {@code n} instructions starting at {@code from}, control goes to {@code target}
         * (both relative to the entry): to that block's code when it is in the region and the run loop would have run it
         * next (a whole block fits the budget, no event pending, the page unchanged); else RIP is
         * set and the method returns to the run loop. The pending flags are written on the way out,
         * and before the jump unless that block overwrites them before anything may read them.
         */
        private void transfer(int n, long from, long target) {
            cob.lload(done).ldc((long) n).ladd().lstore(done);
            int next = region.indexOf(target);
            if (next >= 0) {
                if (!InlineEmitter.flagsDeadAtEntry(region.blocks.get(next))) flags.materialize();
                Label exit = cob.newLabel();
                loopChecks(next, from, exit);
                cob.labelBinding(exit);
            }
            flags.materialize();
            setRip(target);
            cob.lload(done).lreturn();
        }

        /**
         * Goes from the block at {@code from} to block {@code next} when it fits the budget and the run
         * loop would go on; else to {@code exit}. The run loop's between-block checks (a pending event,
         * the page version: {@link TranslatedBlock#mayLoop}) are made on backward jumps only, to a block
         * at or below {@code from}: every cycle of the region has one (going round, addresses must fall
         * somewhere), so a guest loop still checks once per iteration, and a forward chain is at most
         * the region long. An interrupt is then recognised a few instructions later than the
         * interpreter would, at another instruction boundary (SDM Vol. 3 §6.6 lets that be any); this
         * vCPU's own stores to the page are caught after each store ({@link #storeCheck}).
         */
        private void loopChecks(int next, long from, Label exit) {
            cob.lload(MAX).lload(done).lsub().ldc((long) region.blocks.get(next).insns.length).lcmp().iflt(exit);
            if (region.offsets.get(next) > from) {
                cob.goto_(starts[next]);
                return;
            }
            cob.aload(EX).ldc(block.physical).ldc(block.version)
                    .invokestatic(CD_BLOCK, "mayLoop", MethodTypeDesc.of(CD_boolean, CD_EXECUTOR, CD_long, CD_int))
                    .ifeq(exit);
            cob.goto_(starts[next]);
        }

        /**
         * After an instruction that may store: as the interpreter, end the block (k + 1 retired)
         * when some decoded code was written and it was this block's page (SDM Vol. 3 §8.1.3).
         */
        private void storeCheck(int k, long end) {
            Label same = cob.newLabel();
            cob.aload(pages).getfield(CD_PAGES, "invalidations", CD_int).iload(inv).if_icmpeq(same);
            Label untouched = cob.newLabel();
            cob.aload(pages).ldc(block.physical).invokevirtual(CD_PAGES, "version", MethodTypeDesc.of(CD_int, CD_long))
                    .ldc(block.version).if_icmpeq(untouched);
            flags.record(flags.op, flags.size);
            setRip(end);
            cob.lload(done).ldc((long) k + 1).ladd().lreturn();
            cob.labelBinding(untouched);
            cob.aload(pages).getfield(CD_PAGES, "invalidations", CD_int).istore(inv);
            cob.labelBinding(same);
        }
    }
}
