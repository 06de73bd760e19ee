package dev.jkvm.klib.kernel.sync;

import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.ObjdumpDecoder;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.compiler.CompiledUnit;
import dev.jkvm.klib.compiler.JavaSubsetCompiler;
import dev.jkvm.klib.compiler.MethodRef;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Compiles kernel classes with JavaSubsetCompiler, binds every external symbol to a RET stub so
 * that the text section lays out, and disassembles each compiled method with binutils objdump,
 * an independent decoder, so tests can check which instructions a method really contains.
 */
public final class KernelCodeDisassembly {

    private final Set<String> externals;
    private final Map<String, List<String>> methods;

    private KernelCodeDisassembly(Set<String> externals, Map<String, List<String>> methods) {
        this.externals = externals;
        this.methods = methods;
    }

    public static KernelCodeDisassembly compile(Class<?>... classes) throws Exception {
        JavaSubsetCompiler compiler = new JavaSubsetCompiler(KernelCodeDisassembly.class.getClassLoader());
        for (Class<?> c : classes) {
            compiler.addClass(c);
        }
        CompiledUnit unit = compiler.compile();
        Set<String> externals = new TreeSet<>(unit.externals().keySet());
        unit.assembler().section("text");
        for (Label external : unit.externals().values()) {
            unit.assembler().bind(external).ret();
        }
        Section text = unit.text();
        byte[] code = text.bytes();
        List<Map.Entry<MethodRef, Label>> entries = new ArrayList<>(unit.methods().entrySet());
        entries.sort(Comparator.comparingLong(e -> e.getValue().offset()));
        long stubsStart = unit.externals().values().stream().mapToLong(Label::offset).min().orElse(code.length);
        List<Instruction> all = objdump(code);
        Map<String, List<String>> methods = new LinkedHashMap<>();
        for (int i = 0; i < entries.size(); i++) {
            long from = entries.get(i).getValue().offset();
            long to = i + 1 < entries.size() ? entries.get(i + 1).getValue().offset() : stubsStart;
            MethodRef ref = entries.get(i).getKey();
            String key = ref.owner().substring(ref.owner().lastIndexOf('/') + 1) + "." + ref.name();
            List<String> body = new ArrayList<>();
            for (Instruction ins : all) {
                if (ins.offset >= from && ins.offset < to) {
                    body.add(ins.text);
                }
            }
            methods.merge(key, body, (a, b) -> {
                List<String> joined = new ArrayList<>(a);
                joined.addAll(b);
                return joined;
            });
        }
        return new KernelCodeDisassembly(externals, methods);
    }

    /** Symbols the compiled code calls but does not define. */
    public Set<String> externals() {
        return externals;
    }

    /** AT&T disassembly of "SimpleClassName.method" (all overloads). */
    public List<String> method(String simpleClassAndMethod) {
        List<String> body = methods.get(simpleClassAndMethod);
        if (body == null) {
            throw new AssertionError(simpleClassAndMethod + " was not compiled; compiled: " + methods.keySet());
        }
        return body;
    }

    /** Whether some instruction of the method starts with the mnemonic (e.g. "lock xadd"). */
    public boolean contains(String simpleClassAndMethod, String mnemonicPrefix) {
        return method(simpleClassAndMethod).stream().anyMatch(t -> t.startsWith(mnemonicPrefix));
    }

    private record Instruction(long offset, String text) {
    }

    private static List<Instruction> objdump(byte[] code) throws Exception {
        List<Instruction> result = new ArrayList<>();
        for (ObjdumpDecoder.Instruction decoded : ObjdumpDecoder.decode(code, Mode.LONG64)) {
            result.add(new Instruction(decoded.offset(), decoded.text().replaceAll("\\s+", " ")));
        }
        return result;
    }
}
