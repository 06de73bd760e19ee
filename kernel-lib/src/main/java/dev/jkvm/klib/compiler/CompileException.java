package dev.jkvm.klib.compiler;

/**
 * A method could not be compiled. The message names the class, method, bytecode index and
 * source line, then the cause and what to do about it, on one line.
 */
public class CompileException extends RuntimeException {
    private final String className;
    private final String methodName;
    private final int bytecodeIndex;
    private final int sourceLine;

    public CompileException(String className, String methodName, int bytecodeIndex, int sourceLine,
            String problem) {
        super(className + "." + methodName + " (bci " + bytecodeIndex + ", line "
                + (sourceLine < 0 ? "?" : Integer.toString(sourceLine)) + "): " + problem);
        this.className = className;
        this.methodName = methodName;
        this.bytecodeIndex = bytecodeIndex;
        this.sourceLine = sourceLine;
    }

    /** The same error with a different message (CallChain puts the calls that led to it first). */
    CompileException(String message, CompileException original) {
        super(message, original);
        this.className = original.className;
        this.methodName = original.methodName;
        this.bytecodeIndex = original.bytecodeIndex;
        this.sourceLine = original.sourceLine;
    }

    /** Binary class name with dots, e.g. dev.jkvm.kernel.Main. */
    public String className() {
        return className;
    }

    public String methodName() {
        return methodName;
    }

    /** Bytecode index of the offending instruction, or -1 for a whole-method problem. */
    public int bytecodeIndex() {
        return bytecodeIndex;
    }

    /** Source line from the LineNumberTable, or -1 when the class has none. */
    public int sourceLine() {
        return sourceLine;
    }
}
