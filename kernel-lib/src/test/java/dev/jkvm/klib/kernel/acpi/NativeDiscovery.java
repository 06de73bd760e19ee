package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.compiler.CompiledUnit;
import dev.jkvm.klib.compiler.JavaSubsetCompiler;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.util.Map;

/**
 * Acpi.discover compiled by JavaSubsetCompiler and run natively in this process, through the
 * compiler's host test runtime (dev.jkvm.klib.compiler.HostNativeRuntime, package-private in the
 * compiler's tests, hence reached reflectively). Memory addresses mean the same in both worlds,
 * so a fixture's native buffer serves the JVM run and the compiled run alike.
 */
final class NativeDiscovery implements AutoCloseable {
    private final Object runtime;
    private final Method call;
    private final Method consoleOutput;
    private final Method close;
    private final Label discover;
    private final CompiledUnit unit;

    /** Compiles Acpi and, as further roots, the classes given (their other entry points become callable). */
    NativeDiscovery(Class<?>... moreRoots) throws ReflectiveOperationException {
        JavaSubsetCompiler compiler = new JavaSubsetCompiler(getClass().getClassLoader()).addClass(Acpi.class);
        for (Class<?> root : moreRoots) {
            compiler.addClass(root);
        }
        unit = compiler.compile();
        discover = unit.method(Acpi.class.getName(), "discover", "(JJIJ)I");
        Class<?> cls = Class.forName("dev.jkvm.klib.compiler.HostNativeRuntime");
        Constructor<?> constructor = cls.getDeclaredConstructor(CompiledUnit.class, Map.class);
        constructor.setAccessible(true);
        runtime = constructor.newInstance(unit, Map.of());
        call = cls.getDeclaredMethod("call", Label.class, Class.class, Class[].class, Object[].class);
        call.setAccessible(true);
        consoleOutput = cls.getDeclaredMethod("consoleOutput");
        consoleOutput.setAccessible(true);
        close = cls.getDeclaredMethod("close");
        close.setAccessible(true);
    }

    record Run(int outcome, String log) {}

    /** Runs the compiled discover; the log is what the compiled code printed during this call. */
    Run discover(long physicalBase, long physicalSize, int bspApicId, long topology) throws ReflectiveOperationException {
        int before = ((String) consoleOutput.invoke(runtime)).length();
        Object outcome = call.invoke(runtime, discover, int.class, new Class<?>[] {long.class, long.class, int.class, long.class},
                new Object[] {physicalBase, physicalSize, bspApicId, topology});
        Method panicked = outcome.getClass().getDeclaredMethod("panicked");
        panicked.setAccessible(true);
        if ((boolean) panicked.invoke(outcome)) {
            throw new AssertionError("compiled discovery panicked: " + outcome);
        }
        Method value = outcome.getClass().getDeclaredMethod("value");
        value.setAccessible(true);
        String log = ((String) consoleOutput.invoke(runtime)).substring(before);
        return new Run((int) (long) value.invoke(outcome), log);
    }

    /** Runs a compiled static method without arguments that returns an int; the log is what it printed. */
    Run callInt(Class<?> owner, String name) throws ReflectiveOperationException {
        Label method = unit.method(owner.getName(), name, "()I");
        int before = ((String) consoleOutput.invoke(runtime)).length();
        Object outcome = call.invoke(runtime, method, int.class, new Class<?>[0], new Object[0]);
        Method panicked = outcome.getClass().getDeclaredMethod("panicked");
        panicked.setAccessible(true);
        if ((boolean) panicked.invoke(outcome)) {
            throw new AssertionError("compiled " + owner.getSimpleName() + "." + name + " panicked: " + outcome);
        }
        Method value = outcome.getClass().getDeclaredMethod("value");
        value.setAccessible(true);
        String log = ((String) consoleOutput.invoke(runtime)).substring(before);
        return new Run((int) (long) value.invoke(outcome), log);
    }

    @Override
    public void close() throws ReflectiveOperationException {
        close.invoke(runtime);
    }
}
