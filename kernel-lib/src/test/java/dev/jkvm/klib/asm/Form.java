package dev.jkvm.klib.asm;

/**
 * One encoding case: the same code written as GNU as Intel-syntax text and as calls on our
 * {@link Assembler}. In the text, {@code %L} and {@code %M} stand for labels local to the form,
 * and {@code ext} is an undefined symbol (a label in another section on our side).
 */
record Form(String gnu, Emitter ours) {

    /** Emits the form into {@code a}; {@code ext} is bound in a different section. */
    interface Emitter {
        void emit(Assembler a, Label ext);
    }
}
