package dev.jkvm.klib.compiler;

/**
 * Symbol names of compiled code and data: package and class separators become '_', and '__'
 * separates the member, so dev.jkvm.Foo.bar reads dev_jkvm_Foo__bar. Overloaded methods append
 * their descriptor ("__" then the parameter and return type letters, class names mangled the
 * same way) so every overload gets its own symbol.
 */
public final class SymbolNames {
    private SymbolNames() {
    }

    /** Called by compiled code when it divides by zero: rdi = NUL-terminated site text. */
    public static final String PANIC_DIVIDE_BY_ZERO = "klib_panic_divide_by_zero";
    /** Called on an array index out of range: rdi = site text, esi = index, edx = length. */
    public static final String PANIC_ARRAY_INDEX = "klib_panic_array_index";
    /** Console.print: rdi = address of the bytes, rsi = length (bytes also NUL-terminated). */
    public static final String CONSOLE_PRINT = "klib_console_print";
    /** Console.printHex: rdi = value. */
    public static final String CONSOLE_PRINT_HEX = "klib_console_print_hex";

    static String classPart(String internalName) {
        return internalName.replace('/', '_');
    }

    public static String method(MethodRef method, boolean overloaded) {
        String base = classPart(method.owner()) + "__" + method.name();
        if (!overloaded) {
            return base;
        }
        String descriptor = method.descriptor();
        StringBuilder suffix = new StringBuilder("__");
        for (char c : descriptor.toCharArray()) {
            switch (c) {
                case '(' -> { }
                case ')' -> suffix.append('_');
                case '/', ';', '[' -> suffix.append(c == '[' ? 'A' : '_');
                default -> suffix.append(c);
            }
        }
        return base + suffix;
    }

    public static String field(FieldRef field) {
        // '.' cannot occur in a Java identifier, so a field never shares a symbol with a method
        // of the same name (ELF symbol names may contain it).
        return classPart(field.owner()) + "." + field.name();
    }
}
