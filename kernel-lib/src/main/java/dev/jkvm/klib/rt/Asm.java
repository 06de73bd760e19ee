package dev.jkvm.klib.rt;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Calls a routine written with the assembler, by symbol. The symbol must be a string literal.
 * Compiled code makes a normal call under the compiler's calling convention (arguments in
 * rdi, rsi, rdx, rcx; result in rax). On the host JVM the routine is a Java stand-in registered
 * with hostDefine.
 */
public final class Asm {
    private Asm() {
    }

    /** Host JVM stand-in for an assembler routine. */
    @FunctionalInterface
    public interface HostRoutine {
        long call(long[] arguments);
    }

    private static final Map<String, HostRoutine> HOST_ROUTINES = new ConcurrentHashMap<>();

    /** Host JVM only: defines what Asm.call(symbol, ...) does on the host. */
    public static void hostDefine(String symbol, HostRoutine routine) {
        HOST_ROUTINES.put(symbol, routine);
    }

    private static long hostCall(String symbol, long... arguments) {
        HostRoutine routine = HOST_ROUTINES.get(symbol);
        if (routine == null) {
            throw new IllegalStateException("no host stand-in for assembler routine " + symbol
                    + "; define one with Asm.hostDefine(\"" + symbol + "\", ...)");
        }
        return routine.call(arguments);
    }

    public static long call(String symbol) {
        return hostCall(symbol);
    }

    public static long call(String symbol, long a) {
        return hostCall(symbol, a);
    }

    public static long call(String symbol, long a, long b) {
        return hostCall(symbol, a, b);
    }

    public static long call(String symbol, long a, long b, long c) {
        return hostCall(symbol, a, b, c);
    }

    public static long call(String symbol, long a, long b, long c, long d) {
        return hostCall(symbol, a, b, c, d);
    }
}
