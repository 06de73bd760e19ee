package dev.jkvm.klib.compiler;

/** The method uses Java outside the subset that compiles to kernel code (see JavaSubsetCompiler). */
public final class SubsetViolation extends CompileException {
    public SubsetViolation(String className, String methodName, int bytecodeIndex, int sourceLine,
            String problem) {
        super(className, methodName, bytecodeIndex, sourceLine, problem);
    }

    /** The same violation with the calls that led to it first (CallChain). */
    SubsetViolation(String message, SubsetViolation original) {
        super(message, original);
    }
}
