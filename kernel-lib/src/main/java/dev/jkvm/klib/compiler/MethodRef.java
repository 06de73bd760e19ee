package dev.jkvm.klib.compiler;

/**
 * A static method: internal owner name (with slashes), name, descriptor.
 */
public record MethodRef(String owner, String name, String descriptor) {
    /** Readable form for messages: dev.jkvm.Foo.bar(II)I. */
    @Override
    public String toString() {
        return owner.replace('/', '.') + "." + name + descriptor;
    }
}
