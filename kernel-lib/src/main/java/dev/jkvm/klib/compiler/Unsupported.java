package dev.jkvm.klib.compiler;

import java.lang.classfile.Instruction;
import java.lang.classfile.Opcode;

/** Explains why a bytecode is outside the kernel subset and what to write instead. */
final class Unsupported {
    private Unsupported() {
    }

    static String describe(Instruction ins) {
        return describe(ins.opcode());
    }

    static String describe(Opcode op) {
        String name = op.name().toLowerCase();
        return switch (op) {
            case NEW, NEWARRAY, ANEWARRAY, MULTIANEWARRAY ->
                    "allocates (" + name + "): kernel code has no heap; use static fields, static final"
                            + " constant arrays or Memory";
            case ATHROW -> "throws an exception (athrow): kernel code has no exceptions; call a panic routine";
            case MONITORENTER, MONITOREXIT ->
                    "uses a synchronized block (" + name + "): use Atomic to build a lock";
            case IASTORE, LASTORE, BASTORE, CASTORE, SASTORE, AASTORE, FASTORE, DASTORE ->
                    "writes an array element (" + name + "): constant arrays are read-only; use Memory for"
                            + " writable tables";
            case AALOAD -> "reads an object array (aaload): only primitive constant arrays are allowed";
            case CHECKCAST, INSTANCEOF -> "uses object types (" + name + "): kernel code has no objects";
            case INVOKEDYNAMIC -> "uses a lambda, string concatenation or another invokedynamic call site:"
                    + " only static calls and literal strings for Console.print are allowed";
            case IF_ACMPEQ, IF_ACMPNE, IFNULL, IFNONNULL ->
                    "compares object references (" + name + "): kernel code has no objects";
            case JSR, JSR_W, RET -> "uses a subroutine (" + name + "): recompile the class with a current javac";
            default -> name.startsWith("f") || name.startsWith("d") || name.contains("2f") || name.contains("2d")
                    ? "uses float or double arithmetic (" + name + "): the kernel subset has integers only"
                    : "uses the bytecode " + name + ", which is outside the kernel subset";
        };
    }
}
