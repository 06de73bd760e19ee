package dev.jkvm.klib.compiler;

/** A static field: internal owner name (with slashes), name, descriptor. */
public record FieldRef(String owner, String name, String descriptor) {
    @Override
    public String toString() {
        return owner.replace('/', '.') + "." + name;
    }
}
