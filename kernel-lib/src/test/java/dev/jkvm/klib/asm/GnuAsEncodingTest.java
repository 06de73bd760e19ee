package dev.jkvm.klib.asm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every form of {@link EncodingCatalog} assembled by us and by GNU as (one as run per mode
 * and batch); bytes and relocations against external symbols must be identical.
 */
class GnuAsEncodingTest {

    @TestFactory
    Stream<DynamicTest> real16() throws Exception {
        return compare(Mode.REAL16);
    }

    @TestFactory
    Stream<DynamicTest> protected32() throws Exception {
        return compare(Mode.PROTECTED32);
    }

    @TestFactory
    Stream<DynamicTest> long64() throws Exception {
        return compare(Mode.LONG64);
    }

    private static Stream<DynamicTest> compare(Mode mode) throws Exception {
        List<Form> forms = EncodingCatalog.forms(mode);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < forms.size(); i++) {
            texts.add(forms.get(i).gnu().replace("%L", "L" + i + "_a").replace("%M", "L" + i + "_b"));
        }
        List<GnuAs.Output> expected = GnuAs.assemble(mode, texts);
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < forms.size(); i++) {
            Form form = forms.get(i);
            GnuAs.Output gnu = expected.get(i);
            tests.add(DynamicTest.dynamicTest(mode + ": " + form.gnu().replace('\n', ';'), () -> check(mode, form, gnu)));
        }
        return tests.stream();
    }

    private static void check(Mode mode, Form form, GnuAs.Output gnu) {
        Assembler a = new Assembler(mode);
        a.section("other", Section.Kind.DATA);
        Label ext = a.label("ext");
        a.db(0);
        Section text = a.section("text");
        form.ours().emit(a, ext);
        HexFormat hex = HexFormat.ofDelimiter(" ");
        assertEquals(hex.formatHex(gnu.bytes()), hex.formatHex(text.bytes()), () -> "bytes of `" + form.gnu() + "`");
        assertEquals(describe(gnu.relocations()), describeOurs(text.relocations()), () -> "relocations of `" + form.gnu() + "`");
    }

    private static List<String> describe(List<GnuAs.GnuRelocation> relocations) {
        List<String> out = new ArrayList<>();
        for (GnuAs.GnuRelocation r : relocations) {
            // R_X86_64_*: 1=64, 2=PC32, 4=PLT32 (a PC32 for calls), 10=32, 11=32S, 12=16, 13=PC16 (x86-64 psABI).
            String kind = switch (r.type()) {
                case 1 -> "ABS64";
                case 2, 4 -> "PC32";
                case 10 -> "ABS32";
                case 11 -> "ABS32S";
                case 12 -> "ABS16";
                case 13 -> "PC16";
                default -> "type" + r.type();
            };
            // A reference to a local label goes through the (unnamed) section symbol plus the label's offset.
            String target = r.symbol().isEmpty() ? "<own section>" : r.symbol();
            out.add(r.offset() + ":" + kind + ":" + target + ":" + r.addend());
        }
        return out;
    }

    private static List<String> describeOurs(List<Relocation> relocations) {
        List<String> out = new ArrayList<>();
        for (Relocation r : relocations) {
            boolean local = r.target().section().name().equals("text");
            String target = local ? "<own section>" : r.target().name();
            long addend = local ? r.target().offset() + r.addend() : r.addend();
            out.add(r.offset() + ":" + r.kind() + ":" + target + ":" + addend);
        }
        return out;
    }
}
