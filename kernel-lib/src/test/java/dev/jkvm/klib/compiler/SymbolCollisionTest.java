package dev.jkvm.klib.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.image.ImageBuilder;
import org.junit.jupiter.api.Test;

/** A static field and a static method may share a name in Java; their symbols must not collide. */
class SymbolCollisionTest {
    static final class SameName {
        static long total;

        static long total(long add) {
            total += add;
            return total;
        }
    }

    @Test
    void fieldAndMethodOfTheSameNameGetDistinctSymbols() {
        CompiledUnit unit = new JavaSubsetCompiler(SymbolCollisionTest.class.getClassLoader())
                .addMethod(SameName.class.getName(), "total").compile();
        String method = unit.method(SameName.class.getName(), "total", "(J)J").name();
        String field = unit.staticFields().values().iterator().next().name();
        assertNotEquals(method, field);
        assertEquals(1, unit.staticFields().size());
        // Linking used to fail with "symbol ... is defined in two sections".
        Label method0 = unit.method(SameName.class.getName(), "total", "(J)J");
        new ImageBuilder().add(unit.assembler()).entry(method0).build();
    }
}
