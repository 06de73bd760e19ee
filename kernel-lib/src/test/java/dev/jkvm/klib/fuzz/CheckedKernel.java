package dev.jkvm.klib.fuzz;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.classfile.ClassBuilder;
import java.lang.classfile.ClassElement;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.CodeElement;
import java.lang.classfile.CodeTransform;
import java.lang.classfile.MethodModel;
import java.lang.classfile.MethodTransform;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The kernel's Java code (dev.jkvm.klib.kernel.* and dev.jkvm.klib.rt.*) loaded a second time,
 * with rt.Memory rewritten so each load and store first calls {@link Bounds#check}: on the host
 * JVM rt.Memory reads raw host addresses, and fuzzed tables must not be able to steer it outside
 * the buffers the test placed them in. The classes are the compiled main classes, byte for byte,
 * except for that one prologue per Memory accessor.
 */
public final class CheckedKernel extends ClassLoader {
    private static final String MEMORY = "dev.jkvm.klib.rt.Memory";
    private static final ClassDesc BOUNDS = ClassDesc.of(Bounds.class.getName());
    private static final MethodTypeDesc CHECK = MethodTypeDesc.of(ConstantDescs.CD_void, ConstantDescs.CD_long, ConstantDescs.CD_int);

    /** Every loader made, so that a buffer {@link Bounds#allow}s reaches each one's address space. */
    private static final List<CheckedKernel> INSTANCES = new CopyOnWriteArrayList<>();

    public CheckedKernel() {
        super("checked-kernel", CheckedKernel.class.getClassLoader());
        INSTANCES.add(this);
        for (MemorySegment s : Bounds.allowed()) grant(s);
    }

    /**
     * The kernel classes loaded here use this loader's copy of rt.HostAddressSpace (the host
     * JVM's checked memory, which refuses addresses no test granted): a buffer the fuzz test
     * allows is granted there too, so the two checks agree.
     */
    void grant(MemorySegment segment) {
        try {
            method("dev.jkvm.klib.rt.HostAddressSpace", "grant", void.class, MemorySegment.class).invoke(segment);
        } catch (Throwable e) {
            throw new IllegalStateException("cannot grant a buffer to the checked kernel classes", e);
        }
    }

    static void grantEverywhere(MemorySegment segment) {
        for (CheckedKernel k : INSTANCES) k.grant(segment);
    }

    private static boolean isKernelCode(String name) {
        return (name.startsWith("dev.jkvm.klib.kernel.") || name.startsWith("dev.jkvm.klib.rt."));
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (!isKernelCode(name)) return super.loadClass(name, resolve);
        synchronized (getClassLoadingLock(name)) {
            Class<?> c = findLoadedClass(name);
            if (c == null) {
                byte[] bytes = classBytes(name);
                if (name.equals(MEMORY)) bytes = checked(bytes);
                c = defineClass(name, bytes, 0, bytes.length);
            }
            if (resolve) resolveClass(c);
            return c;
        }
    }

    private byte[] classBytes(String name) throws ClassNotFoundException {
        try (InputStream in = getParent().getResourceAsStream(name.replace('.', '/') + ".class")) {
            if (in == null) throw new ClassNotFoundException(name);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Bytes accessed by each rt.Memory method, by its name; 0 for methods that access nothing. */
    private static int width(MethodModel m) {
        String name = m.methodName().stringValue();
        if (!name.startsWith("load") && !name.startsWith("store")) return 0;
        return switch (name.replace("load", "").replace("store", "")) {
            case "8" -> 1;
            case "16" -> 2;
            case "32" -> 4;
            case "64" -> 8;
            default -> throw new IllegalStateException("rt.Memory." + name + " has no known width; teach CheckedKernel about it");
        };
    }

    private static byte[] checked(byte[] memoryClass) {
        ClassFile files = ClassFile.of();
        ClassModel model = files.parse(memoryClass);
        ClassTransform transform = (ClassBuilder builder, ClassElement element) -> {
            if (element instanceof MethodModel m && width(m) > 0) {
                builder.transformMethod(m, MethodTransform.transformingCode(prologue(width(m))));
            } else {
                builder.with(element);
            }
        };
        return files.transformClass(model, transform);
    }

    /** Bounds.check(address, width) before the method's own code; the address is parameter 0. */
    private static CodeTransform prologue(int width) {
        return new CodeTransform() {
            @Override
            public void accept(CodeBuilder builder, CodeElement element) {
                builder.with(element);
            }

            @Override
            public void atStart(CodeBuilder builder) {
                builder.lload(0).loadConstant(width).invokestatic(BOUNDS, "check", CHECK);
            }
        };
    }

    /** A static method of a kernel class, loaded through this loader (private ones too). */
    public MethodHandle method(String className, String methodName, Class<?> returnType, Class<?>... parameters) {
        try {
            Class<?> type = loadClass(className);
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(type, MethodHandles.lookup());
            return lookup.findStatic(type, methodName, MethodType.methodType(returnType, parameters));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
