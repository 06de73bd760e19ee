package dev.jkvm.klib.compiler;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.SegReg;
import dev.jkvm.klib.asm.Section;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.Attributes;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.FieldModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.attribute.RuntimeVisibleAnnotationsAttribute;
import java.lang.reflect.AccessFlag;
import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything one compilation produces besides instructions: class lookup, the methods still to
 * compile, symbols, static field storage, constant arrays and string literals. Data is laid out
 * after all code is generated (labels are bound then), in sections "rodata", "data" and
 * "percpu" of the same assembler that holds "text".
 */
final class UnitBuilder {
    private static final String PER_CPU = "Ldev/jkvm/klib/rt/PerCpu;";

    private final ClassLoader loader;
    private final int perCpuBase;
    private final Assembler assembler = new Assembler(Mode.LONG64);
    private final Map<String, ClassModel> classes = new HashMap<>();
    final Map<MethodRef, Label> methods = new LinkedHashMap<>();
    final Deque<MethodRef> pending = new ArrayDeque<>();
    final Map<FieldRef, Label> staticFields = new LinkedHashMap<>();
    final Map<FieldRef, Integer> perCpuOffsets = new LinkedHashMap<>();
    private final Map<FieldRef, Integer> perCpuBits = new HashMap<>();
    private final Map<FieldRef, ConstantArray> arrays = new LinkedHashMap<>();
    private final Map<String, Label> strings = new LinkedHashMap<>();
    final Map<String, Label> externals = new LinkedHashMap<>();
    private int perCpuEnd;
    private final String externalPrefix;

    UnitBuilder(ClassLoader loader, int perCpuBase, String externalPrefix) {
        this.loader = loader;
        this.externalPrefix = externalPrefix;
        this.perCpuBase = perCpuBase;
        this.perCpuEnd = perCpuBase;
    }

    Assembler assembler() {
        return assembler;
    }

    ClassModel classModel(String internalName) {
        ClassModel model = classes.get(internalName);
        if (model != null) {
            return model;
        }
        try (InputStream in = loader.getResourceAsStream(internalName + ".class")) {
            if (in == null) {
                throw new IllegalArgumentException("refers to class " + internalName.replace('/', '.')
                        + ", whose class file is not on the class path given to the compiler");
            }
            model = ClassFile.of().parse(in.readAllBytes());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read class file of " + internalName + ": " + e.getMessage());
        }
        classes.put(internalName, model);
        return model;
    }

    MethodModel methodModel(MethodRef ref) {
        for (MethodModel m : classModel(ref.owner()).methods()) {
            if (m.methodName().equalsString(ref.name()) && m.methodType().equalsString(ref.descriptor())) {
                return m;
            }
        }
        throw new IllegalArgumentException("calls " + ref + ", which does not exist");
    }

    /** Who first called each queued method, and from where: for the call chain of an error. */
    final Map<MethodRef, CallSite> callers = new HashMap<>();

    /** The first call of a method: the caller and its position, "(File.java:LINE)". */
    record CallSite(MethodRef caller, String position) {
    }

    /** As method(ref), remembering the first call site for the call chain of a later error. */
    Label method(MethodRef ref, MethodRef caller, String position) {
        Label label = method(ref);
        MethodRef declared = declaringMethod(ref);
        if (!declared.equals(caller)) {
            callers.putIfAbsent(declared, new CallSite(caller, position));
        }
        return label;
    }

    /** The label of a method's code; queues the method for compilation on first use. */
    Label method(MethodRef ref) {
        MethodRef declared = declaringMethod(ref);
        Label label = methods.get(declared);
        if (label == null) {
            int sameName = 0;
            for (MethodModel m : classModel(declared.owner()).methods()) {
                if (m.methodName().equalsString(declared.name())) {
                    sameName++;
                }
            }
            label = new Label(SymbolNames.method(declared, sameName > 1));
            methods.put(declared, label);
            pending.add(declared);
        }
        return label;
    }

    private MethodRef declaringMethod(MethodRef ref) {
        String owner = ref.owner();
        while (owner != null) {
            ClassModel model = classModel(owner);
            for (MethodModel m : model.methods()) {
                if (m.methodName().equalsString(ref.name()) && m.methodType().equalsString(ref.descriptor())) {
                    return new MethodRef(owner, ref.name(), ref.descriptor());
                }
            }
            owner = model.superclass().map(c -> c.asInternalName()).orElse(null);
            if ("java/lang/Object".equals(owner)) {
                owner = null;
            }
        }
        throw new IllegalArgumentException("calls " + ref + ", which does not exist in the class file seen by"
                + " the compiler (stale build?)");
    }

    private record Resolved(String owner, FieldModel field) {
    }

    private Resolved declaringField(FieldRef ref) {
        String owner = ref.owner();
        while (owner != null && !owner.startsWith("java/")) {
            ClassModel model = classModel(owner);
            for (FieldModel f : model.fields()) {
                if (f.fieldName().equalsString(ref.name()) && f.fieldType().equalsString(ref.descriptor())) {
                    return new Resolved(owner, f);
                }
            }
            owner = model.superclass().map(c -> c.asInternalName()).orElse(null);
        }
        throw new IllegalArgumentException("uses field " + ref + ", which was not found in its class or superclasses");
    }

    private static boolean isPerCpu(FieldModel field) {
        return field.findAttribute(Attributes.runtimeVisibleAnnotations())
                .map((RuntimeVisibleAnnotationsAttribute rva) -> rva.annotations().stream()
                        .anyMatch(an -> an.className().equalsString(PER_CPU)))
                .orElse(false);
    }

    private static int primitiveBits(char descriptor) {
        return switch (descriptor) {
            case 'Z', 'B' -> 8;
            case 'S', 'C' -> 16;
            case 'I' -> 32;
            case 'J' -> 64;
            default -> 0;
        };
    }

    StaticSlot staticField(FieldRef ref) {
        Resolved r = declaringField(ref);
        FieldRef declared = new FieldRef(r.owner, ref.name(), ref.descriptor());
        int bits = ref.descriptor().length() == 1 ? primitiveBits(ref.descriptor().charAt(0)) : 0;
        if (bits == 0) {
            throw new IllegalArgumentException("uses static field " + declared + " of type " + ref.descriptor()
                    + ": only int, long, short, char, byte and boolean fields (and static final constant arrays)"
                    + " are allowed");
        }
        boolean signed = ref.descriptor().equals("B") || ref.descriptor().equals("S");
        if (isPerCpu(r.field)) {
            Integer offset = perCpuOffsets.get(declared);
            if (offset == null) {
                int size = bits / 8;
                perCpuEnd = (perCpuEnd + size - 1) / size * size;
                offset = perCpuEnd;
                perCpuEnd += size;
                perCpuOffsets.put(declared, offset);
                perCpuBits.put(declared, bits);
            }
            return new StaticSlot(Mem.abs(offset).seg(SegReg.GS), bits, signed);
        }
        Label label = staticFields.computeIfAbsent(declared, f -> new Label(SymbolNames.field(f)));
        return new StaticSlot(Mem.rip(label), bits, signed);
    }

    ConstantArray constantArray(FieldRef ref) {
        ConstantArray known = arrays.get(ref);
        if (known != null) {
            return known;
        }
        Resolved r = declaringField(ref);
        FieldRef declared = new FieldRef(r.owner, ref.name(), ref.descriptor());
        int bits = ref.descriptor().length() == 2 ? primitiveBits(ref.descriptor().charAt(1)) : 0;
        if (!r.field.flags().has(AccessFlag.STATIC) || !r.field.flags().has(AccessFlag.FINAL) || bits == 0) {
            throw new IllegalArgumentException("uses array " + declared + ": only static final arrays of a"
                    + " primitive integer type are allowed (they become read-only data)");
        }
        Object value = hostValue(declared);
        if (value == null) {
            throw new IllegalArgumentException("uses array " + declared + ", which is null after class initialisation");
        }
        boolean signed = ref.descriptor().equals("[B") || ref.descriptor().equals("[S");
        ConstantArray array = new ConstantArray(new Label(SymbolNames.field(declared)), Array.getLength(value),
                bits, signed);
        arrays.put(ref, array);
        arrays.put(declared, array);
        return array;
    }

    /** The field's value after the class initialiser ran on the build host. */
    private Object hostValue(FieldRef field) {
        try {
            Class<?> cls = Class.forName(field.owner().replace('/', '.'), true, loader);
            Field f = cls.getDeclaredField(field.name());
            f.setAccessible(true);
            return f.get(null);
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            throw new IllegalArgumentException("cannot read the initial value of " + field + " on the build host ("
                    + e + "): its class initialiser must run on the host JVM");
        }
    }

    Label string(String text) {
        return strings.computeIfAbsent(text, t -> new Label());
    }

    Label external(String symbol) {
        return externals.computeIfAbsent(symbol, s -> new Label(externalPrefix + s));
    }

    /** Lays out rodata, data and the per-CPU template after all code is emitted. */
    void emitData() {
        Assembler a = assembler;
        a.section("rodata", Section.Kind.RODATA);
        for (Map.Entry<FieldRef, ConstantArray> e : arrays.entrySet()) {
            ConstantArray array = e.getValue();
            if (array.label().isBound()) {
                continue;
            }
            a.align(8);
            a.bind(array.label());
            Object value = hostValue(e.getKey());
            for (int i = 0; i < array.length(); i++) {
                emitValue(a, Array.get(value, i), array.elementBits());
            }
        }
        for (Map.Entry<String, Label> e : strings.entrySet()) {
            a.bind(e.getValue());
            a.asciz(e.getKey());
        }
        a.section("data", Section.Kind.DATA);
        for (Map.Entry<FieldRef, Label> e : staticFields.entrySet()) {
            int bits = primitiveBits(e.getKey().descriptor().charAt(0));
            a.align(bits / 8);
            a.bind(e.getValue());
            emitValue(a, hostValue(e.getKey()), bits);
        }
        a.section("percpu", Section.Kind.DATA);
        byte[] template = new byte[perCpuEnd];
        for (Map.Entry<FieldRef, Integer> e : perCpuOffsets.entrySet()) {
            long v = asLong(hostValue(e.getKey()));
            for (int i = 0; i < perCpuBits.get(e.getKey()) / 8; i++) {
                template[e.getValue() + i] = (byte) (v >>> (8 * i));
            }
        }
        a.db(template);
        a.section("text", Section.Kind.CODE);
    }

    private static long asLong(Object value) {
        return switch (value) {
            case Boolean b -> b ? 1 : 0;
            case Character c -> c;
            case Number n -> n.longValue();
            default -> throw new IllegalStateException(String.valueOf(value));
        };
    }

    private static void emitValue(Assembler a, Object value, int bits) {
        long v = asLong(value);
        switch (bits) {
            case 8 -> a.db((int) (byte) v);
            case 16 -> a.dw((int) (short) v);
            case 32 -> a.dd((long) (int) v);
            default -> a.dq(v);
        }
    }

    int perCpuSize() {
        return perCpuEnd;
    }
}
