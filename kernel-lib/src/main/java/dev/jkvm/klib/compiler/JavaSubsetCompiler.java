package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mode;

import java.lang.classfile.ClassModel;
import java.lang.classfile.MethodModel;
import java.lang.reflect.AccessFlag;
import java.util.ArrayList;
import java.util.List;

/**
 * Compiles a restricted subset of Java to x86-64 kernel code, ahead of time, from class files.
 *
 * The subset: static methods over int, long, short, char, byte and boolean (locals, parameters,
 * results, static fields); all integer arithmetic with Java's exact semantics; every branch and
 * switch javac emits; static calls (recursion included); @PerCpu static fields (GS-relative);
 * reading static final primitive arrays (bounds-checked, read-only data); string literals passed
 * to Console.print; and the intrinsics of dev.jkvm.klib.rt. Division by zero and array indexes
 * out of range call the kernel's panic routines (SymbolNames) with "Class.method line N".
 * Everything else (objects, virtual calls, exceptions, monitors, floating point, writable
 * arrays) is rejected with a SubsetViolation naming class, method, bytecode index and line.
 * Class initialisers are not compiled: they run on the build host, and the values they leave
 * in static fields and constant arrays become the image's initial data.
 *
 * Roots are added by class (all its static methods) or by method name; everything they call is
 * compiled too.
 */
public final class JavaSubsetCompiler {
    private final ClassLoader loader;
    private final List<String[]> roots = new ArrayList<>();
    private int perCpuBase;
    private String externalPrefix = "";

    /** Reads class files (and runs class initialisers for initial data) through this loader. */
    public JavaSubsetCompiler(ClassLoader loader) {
        this.loader = loader;
    }

    /** Offset of the first @PerCpu field in the per-CPU area (room for kernel-reserved fields). */
    public JavaSubsetCompiler perCpuBaseOffset(int offset) {
        this.perCpuBase = offset;
        return this;
    }

    /**
     * Prefixes the names of the labels this unit's external symbols get (the externals map keeps
     * the plain symbol as key), so that a second unit linked into the same image (for instance
     * user-mode code bound to its own routines) does not define the same symbol names twice.
     */
    public JavaSubsetCompiler externalPrefix(String prefix) {
        this.externalPrefix = prefix;
        return this;
    }

    /** Compiles every static method of the class except its class initialiser and synthetic methods. */
    public JavaSubsetCompiler addClass(String binaryClassName) {
        roots.add(new String[] {binaryClassName.replace('.', '/'), null});
        return this;
    }

    public JavaSubsetCompiler addClass(Class<?> cls) {
        return addClass(cls.getName());
    }

    /** Compiles every overload of the named static method. */
    public JavaSubsetCompiler addMethod(String binaryClassName, String methodName) {
        roots.add(new String[] {binaryClassName.replace('.', '/'), methodName});
        return this;
    }

    /** Compiles the roots and everything they reach. */
    public CompiledUnit compile() {
        UnitBuilder unit = new UnitBuilder(loader, perCpuBase, externalPrefix);
        java.util.List<SourceLine> sourceLines = new java.util.ArrayList<>();
        for (String[] root : roots) {
            ClassModel model;
            try {
                model = unit.classModel(root[0]);
            } catch (IllegalArgumentException e) {
                throw new CompileException(root[0].replace('/', '.'), String.valueOf(root[1]), -1, -1,
                        "class not found: put it on the class path of the loader given to JavaSubsetCompiler");
            }
            boolean found = false;
            for (MethodModel m : model.methods()) {
                String name = m.methodName().stringValue();
                boolean wanted = root[1] == null
                        ? m.flags().has(AccessFlag.STATIC) && !name.equals("<clinit>")
                                && !m.flags().has(AccessFlag.SYNTHETIC)
                        : name.equals(root[1]);
                if (wanted) {
                    unit.method(new MethodRef(root[0], name, m.methodType().stringValue()));
                    found = true;
                }
            }
            if (!found && root[1] != null) {
                throw new CompileException(root[0].replace('/', '.'), root[1], -1, -1,
                        "no such method: check the name passed to addMethod");
            }
        }
        while (!unit.pending.isEmpty()) {
            MethodRef ref = unit.pending.poll();
            Label entry = unit.methods.get(ref);
            unit.assembler().align(16);
            // A measuring pass finds how many operand stack entries the method really needs (max_stack
            // counts longs twice), so that fewer registers are reserved for the stack and more hold locals.
            try {
                MethodTranslator measuring = new MethodTranslator(unit, new Assembler(Mode.LONG64), ref,
                        unit.methodModel(ref), -1);
                measuring.translate(new Label());
                MethodTranslator translator = new MethodTranslator(unit, unit.assembler(), ref, unit.methodModel(ref),
                        measuring.maxStackEntries());
                translator.translate(entry);
                sourceLines.addAll(translator.sourceLines());
            } catch (CompileException e) {
                throw CallChain.prefix(unit.callers, ref, e);
            }
        }
        unit.emitData();
        return new CompiledUnit(unit.assembler(), unit.methods, unit.staticFields, unit.perCpuOffsets,
                unit.perCpuSize(), unit.externals, sourceLines);
    }
}
