package dev.jkvm.vmm.acpi;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The field lines of an {@code iasl -d} data-table disassembly, e.g.
 * {@code [024h 0036   4]           Local Apic Address : FEE00000}.
 */
final class Dsl {
    record Field(int offset, int length, String name, String value) {
        /** The value up to the first blank: {@code "APIC"} of {@code "APIC"    [Multiple APIC ...]}. */
        String token() {
            int sp = value.indexOf(' ');
            return sp < 0 ? value : value.substring(0, sp);
        }

        long hex() { return Long.parseUnsignedLong(token(), 16); }
    }

    private static final Pattern LINE = Pattern.compile("^\\[([0-9A-F]+)h (\\d+)\\s+(\\d+)\\]\\s+(.+?) : (.*)$");

    final String text;
    final List<Field> fields = new ArrayList<>();

    Dsl(String text) {
        this.text = text;
        for (String line : text.split("\n")) {
            Matcher m = LINE.matcher(line.strip());
            if (m.matches()) {
                fields.add(new Field(Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)), m.group(4).strip(), m.group(5).strip()));
            }
        }
    }

    List<Field> all(String name) {
        return fields.stream().filter(f -> f.name().equals(name)).toList();
    }

    Field first(String name) {
        return fields.stream().filter(f -> f.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("iasl output has no field \"" + name + "\":\n" + text));
    }

    /** All fields named {@code name} inside subtables whose "Subtable Type" value starts with {@code typeHex}. */
    List<Field> inSubtables(String typeHex, String name) {
        List<Field> out = new ArrayList<>();
        boolean inType = false;
        for (Field f : fields) {
            if (f.name().equals("Subtable Type")) inType = f.token().equals(typeHex);
            else if (inType && f.name().equals(name)) out.add(f);
        }
        return out;
    }

    /** A bit iasl decodes below a flags field, e.g. {@code "VGA Not Present (V4) : 1"}. */
    int decodedBit(String name) {
        for (String line : text.split("\n")) {
            String l = line.strip();
            if (!l.startsWith("[") && l.startsWith(name + " : ")) return Integer.parseInt(l.substring(name.length() + 3).strip());
        }
        throw new AssertionError("iasl output decodes no bit \"" + name + "\":\n" + text);
    }

    long countSubtables(String typeHex) {
        return all("Subtable Type").stream().filter(f -> f.token().equals(typeHex)).count();
    }

    /** Lines where iasl complains (bad checksum, invalid or unknown fields, errors, warnings). */
    List<String> complaints() {
        return text.lines()
                .filter(l -> l.matches("(?i).*(incorrect|invalid|error|warning|unknown|reserved value).*"))
                .filter(l -> !l.contains("Disassembler version"))
                .toList();
    }
}
