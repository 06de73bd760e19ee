package dev.jkvm.klib.kernel.smp;

import dev.jkvm.klib.rt.Asm;

/**
 * Runs a cross-CPU function by id. Compiled kernel code cannot pass code around, so a function
 * is a number: the kernel binds SYMBOL to its registry, a compiled static method
 * {@code void run(int functionId, long argument, int cpu)} that switches on the id (rdi = id,
 * rsi = argument, edx = the CPU running it). A host test binds it with Asm.hostDefine.
 */
public final class CallFunctionDispatch {
    private CallFunctionDispatch() {
    }

    public static final String SYMBOL = "klib_call_function";

    public static void run(int functionId, long argument, int cpu) {
        Asm.call(SYMBOL, functionId, argument, cpu);
    }
}
