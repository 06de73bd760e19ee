package dev.jkvm.klib.compiler;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Runs a static method on the JVM and compiled natively with the same arguments and describes
 * each outcome the same way ("value 42", "panic divide by zero at C.m line 7"), so tests compare
 * strings. The JVM's own exception stack trace is the oracle for the panic site.
 */
final class DifferentialOracle {
    private DifferentialOracle() {
    }

    static final int[] INT_EDGES = {0, 1, -1, 2, -2, 3, 7, -7, 31, 32, 33, 63, 64, 65, 100, -100, 12345678,
            0x55555555, Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE - 1, Integer.MIN_VALUE + 1};
    static final long[] LONG_EDGES = {0, 1, -1, 2, -2, 3, 7, 31, 32, 63, 64, 65, 0xFFFF_FFFFL, 0x1_0000_0000L,
            -0x8000_0001L, Integer.MAX_VALUE, Integer.MIN_VALUE, 1234567890123L, Long.MAX_VALUE, Long.MIN_VALUE,
            Long.MAX_VALUE - 1, Long.MIN_VALUE + 1};

    static String jvmOutcome(Method m, Object[] args) {
        try {
            Object r = m.invoke(null, args);
            return "value " + HostNativeRuntime.toLong(r);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            String kind = cause instanceof ArithmeticException ? "divide by zero"
                    : cause instanceof ArrayIndexOutOfBoundsException ? "array index" : cause.toString();
            StackTraceElement top = cause.getStackTrace()[0];
            return "panic " + kind + " at " + top.getClassName() + "." + top.getMethodName() + " line "
                    + top.getLineNumber();
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    static String nativeOutcome(HostNativeRuntime.Outcome o) {
        return o.panicked() ? "panic " + o.panic() + " at " + o.site() : "value " + o.value();
    }

    /** Argument lists: the full cross product of edge values for up to two parameters, else random picks. */
    static List<Object[]> argumentSets(Class<?>[] types, Random random, int randomCount) {
        List<Object[]> sets = new ArrayList<>();
        if (types.length == 0) {
            sets.add(new Object[0]);
        } else if (types.length == 1) {
            for (Object v : edges(types[0])) {
                sets.add(new Object[] {v});
            }
        } else if (types.length == 2) {
            for (Object v : edges(types[0])) {
                for (Object w : edges(types[1])) {
                    sets.add(new Object[] {v, w});
                }
            }
        }
        for (int i = 0; i < randomCount; i++) {
            Object[] args = new Object[types.length];
            for (int p = 0; p < types.length; p++) {
                List<Object> e = edges(types[p]);
                args[p] = random.nextInt(3) == 0 ? randomValue(types[p], random) : e.get(random.nextInt(e.size()));
            }
            sets.add(args);
        }
        return sets;
    }

    static List<Object> edges(Class<?> type) {
        List<Object> values = new ArrayList<>();
        if (type == long.class) {
            for (long v : LONG_EDGES) {
                values.add(v);
            }
        } else if (type == boolean.class) {
            values.add(false);
            values.add(true);
        } else {
            for (int v : INT_EDGES) {
                values.add(narrowTo(type, v));
            }
        }
        return values;
    }

    static Object randomValue(Class<?> type, Random random) {
        if (type == long.class) {
            return random.nextBoolean() ? random.nextLong() : (long) random.nextInt(2000) - 1000;
        }
        if (type == boolean.class) {
            return random.nextBoolean();
        }
        return narrowTo(type, random.nextBoolean() ? random.nextInt() : random.nextInt(2000) - 1000);
    }

    static Object narrowTo(Class<?> type, int v) {
        if (type == int.class) {
            return v;
        } else if (type == short.class) {
            return (short) v;
        } else if (type == char.class) {
            return (char) v;
        } else if (type == byte.class) {
            return (byte) v;
        }
        throw new IllegalArgumentException(type.toString());
    }
}
