package dev.jkvm.vmm.emulated.cpu;

/**
 * Bytecode for the hot instruction families, with the Insn's fields folded as constants: the
 * same operations as {@link Executor}'s handlers for them. Returns false for anything else (the
 * translator then emits a call to the interpreter's code for that one instruction).
 */
final class InlineEmitter {
    private final BlockTranslator.Body body;

    InlineEmitter(BlockTranslator.Body body) {
        this.body = body;
    }

    /** Emits {@code in} (whose end is {@code end} bytes after the block start); false when not inlined. */
    boolean emit(Insn in, long end) {
        return false;
    }
}
