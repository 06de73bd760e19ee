package dev.jkvm.vmm.emulated.lockstep;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where each register sits in the {@code g}/{@code G} packet, read from the target description the
 * stub sends ({@code qXfer:features:read:target.xml} and the files it includes; GDB manual
 * Appendix G "Target Descriptions"). For QEMU's x86-64 target that is {@code i386-64bit.xml}:
 * rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp, r8..r15, rip, eflags (32 bits), cs, ss, ds, es, fs, gs
 * (32 bits each), fs_base, gs_base, k_gs_base, cr0, cr2, cr3, cr4, cr8, efer, st0..st7 (80 bits),
 * eight 32-bit x87 control registers, xmm0..xmm15, mxcsr. The order is read, not assumed:
 * registers in XML comments (QEMU 7.2 comments out ss_base/ds_base/es_base) do not exist.
 */
final class RegisterLayout {
    private static final Pattern INCLUDE = Pattern.compile("<xi:include\\s+href=\"([^\"]+)\"");
    private static final Pattern REG = Pattern.compile("<reg\\s+([^>]*)/?>");
    private static final Pattern ATTR = Pattern.compile("(\\w+)=\"([^\"]*)\"");

    record Field(String name, int number, int offset, int bytes) {}

    private final Map<String, Field> fields;
    private final int size;

    private RegisterLayout(Map<String, Field> fields, int size) {
        this.fields = fields;
        this.size = size;
    }

    static RegisterLayout read(GdbRemote gdb) throws IOException {
        List<String[]> regs = new ArrayList<>();
        collect(gdb, "target.xml", regs);
        Map<String, Field> fields = new LinkedHashMap<>();
        int offset = 0;
        for (String[] r : regs) {
            int bytes = Integer.parseInt(r[1]) / 8;
            fields.put(r[0], new Field(r[0], fields.size(), offset, bytes));
            offset += bytes;
        }
        RegisterLayout layout = new RegisterLayout(fields, offset);
        for (String required : new String[] {"rax", "r15", "rip", "eflags", "cs", "gs", "fs_base", "gs_base", "cr0", "cr3", "cr4", "efer"}) {
            layout.field(required);
        }
        return layout;
    }

    private static void collect(GdbRemote gdb, String annex, List<String[]> regs) throws IOException {
        String xml = gdb.readFeature(annex).replaceAll("(?s)<!--.*?-->", "");
        int pos = 0;
        Matcher inc = INCLUDE.matcher(xml);
        Matcher reg = REG.matcher(xml);
        // Includes and registers in document order.
        while (true) {
            boolean hasInc = inc.find(pos);
            boolean hasReg = reg.find(pos);
            if (!hasInc && !hasReg) break;
            if (hasInc && (!hasReg || inc.start() < reg.start())) {
                collect(gdb, inc.group(1), regs);
                pos = inc.end();
            } else {
                String name = null, bits = null;
                Matcher a = ATTR.matcher(reg.group(1));
                while (a.find()) {
                    if (a.group(1).equals("name")) name = a.group(2);
                    if (a.group(1).equals("bitsize")) bits = a.group(2);
                }
                if (name == null || bits == null) throw new IOException("register without name or bitsize in " + annex + ": " + reg.group());
                regs.add(new String[] {name, bits});
                pos = reg.end();
            }
        }
    }

    Field field(String name) {
        Field f = fields.get(name);
        if (f == null) throw new IllegalStateException("the gdbstub's target description has no register '" + name + "': " + fields.keySet());
        return f;
    }

    boolean has(String name) {
        return fields.containsKey(name);
    }

    /** Size in bytes of a whole {@code g} packet. */
    int size() {
        return size;
    }

    long get(byte[] raw, String name) {
        Field f = field(name);
        long v = 0;
        for (int i = Math.min(f.bytes, 8) - 1; i >= 0; i--) v = v << 8 | (raw[f.offset + i] & 0xFF);
        return v;
    }

    /** The upper 64 bits of a 128-bit register (xmm). */
    long getHigh(byte[] raw, String name) {
        Field f = field(name);
        long v = 0;
        for (int i = 15; i >= 8; i--) v = v << 8 | (raw[f.offset + i] & 0xFF);
        return v;
    }

    void set(byte[] raw, String name, long value) {
        Field f = field(name);
        for (int i = 0; i < Math.min(f.bytes, 8); i++) raw[f.offset + i] = (byte) (value >>> (8 * i));
    }

    void setHigh(byte[] raw, String name, long value) {
        Field f = field(name);
        for (int i = 8; i < 16; i++) raw[f.offset + i] = (byte) (value >>> (8 * (i - 8)));
    }

    @Override
    public String toString() {
        return fields.values().toString();
    }
}
