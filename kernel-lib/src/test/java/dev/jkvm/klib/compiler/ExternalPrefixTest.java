package dev.jkvm.klib.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jkvm.klib.asm.AsmException;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.image.ImageBuilder;
import dev.jkvm.klib.rt.Asm;

import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * externalPrefix: two units calling the same runtime symbol can be linked into one image only
 * when one of them prefixes its external labels; the externals map keeps the plain symbol.
 */
class ExternalPrefixTest {
    static long callsRoutine() {
        return Asm.call("some_routine", 7);
    }

    static long alsoCallsRoutine() {
        return Asm.call("some_routine", 8);
    }

    private static CompiledUnit unit(String method, String prefix) {
        JavaSubsetCompiler compiler = new JavaSubsetCompiler(ExternalPrefixTest.class.getClassLoader())
                .addMethod(ExternalPrefixTest.class.getName(), method);
        if (prefix != null) {
            compiler.externalPrefix(prefix);
        }
        return compiler.compile();
    }

    private static Label bindExternal(CompiledUnit unit) {
        Label external = unit.externals().get("some_routine");
        unit.assembler().section("text", Section.Kind.CODE);
        unit.assembler().align(16).bind(external).ret();
        return external;
    }

    @Test
    void prefixedExternalsKeepTheirKeyAndGetPrefixedNames() {
        CompiledUnit user = unit("callsRoutine", "user_");
        assertEquals(Set.of("some_routine"), user.externals().keySet());
        assertEquals("user_some_routine", user.externals().get("some_routine").name());
    }

    @Test
    void twoUnitsLinkTogetherOnlyWithAPrefix() {
        CompiledUnit kernel = unit("callsRoutine", null);
        Label entry = bindExternal(kernel);
        CompiledUnit same = unit("alsoCallsRoutine", null);
        bindExternal(same);
        assertThrows(AsmException.class,
                () -> new ImageBuilder().add(kernel.assembler()).add(same.assembler()).entry(entry).build());

        CompiledUnit kernelAgain = unit("callsRoutine", null);
        Label entryAgain = bindExternal(kernelAgain);
        CompiledUnit prefixed = unit("alsoCallsRoutine", "user_");
        bindExternal(prefixed);
        new ImageBuilder().add(kernelAgain.assembler()).add(prefixed.assembler()).entry(entryAgain).build();
    }
}
