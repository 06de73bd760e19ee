package dev.jkvm.vmm.emulated.lockstep;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The state the gdbstub's {@code g} packet lacks, read from QEMU's {@code info registers} monitor
 * output: every segment register's hidden descriptor cache (SDM Vol. 3A §3.4.3), LDTR, TR, GDTR,
 * IDTR, CPL and the interrupt shadow. Index order is {@code CpuState}'s: ES, CS, SS, DS, FS, GS, TR,
 * LDTR. Attributes use {@code CpuState.segAttr}'s packing (descriptor high dword bits 8..23 shifted
 * down by 8, limit bits 19:16 cleared); QEMU prints the high dword with the base bits masked.
 */
record SegmentState(int[] selector, long[] base, long[] limit, int[] attr, long gdtBase, int gdtLimit,
                    long idtBase, int idtLimit, int cpl, boolean interruptShadow, boolean halted) {
    static final String[] NAMES = {"ES", "CS", "SS", "DS", "FS", "GS", "TR", "LDT"};
    private static final Pattern SEG = Pattern.compile(
            "(?m)^(ES |CS |SS |DS |FS |GS |TR |LDT)=(\\p{XDigit}{4}) (\\p{XDigit}+) (\\p{XDigit}{8}) (\\p{XDigit}{8})");
    private static final Pattern TABLE = Pattern.compile("(?m)^(GDT|IDT)= +(\\p{XDigit}+) (\\p{XDigit}{8})");
    private static final Pattern CPL = Pattern.compile("CPL=(\\d) II=(\\d)");
    private static final Pattern HLT = Pattern.compile("HLT=(\\d)");

    static SegmentState parse(String infoRegisters) {
        int[] sel = new int[8];
        long[] base = new long[8];
        long[] limit = new long[8];
        int[] attr = new int[8];
        int found = 0;
        Matcher m = SEG.matcher(infoRegisters.replace("\r", ""));
        while (m.find()) {
            int i = java.util.Arrays.asList(NAMES).indexOf(m.group(1).trim());
            sel[i] = Integer.parseInt(m.group(2), 16);
            base[i] = Long.parseUnsignedLong(m.group(3), 16);
            limit[i] = Long.parseLong(m.group(4), 16);
            attr[i] = (int) (Long.parseLong(m.group(5), 16) >>> 8) & 0xF0FF;
            found |= 1 << i;
        }
        if (found != 0xFF) throw new IllegalStateException("QEMU's info registers lacks segment lines:\n" + infoRegisters);
        long gdtBase = 0, idtBase = 0;
        int gdtLimit = 0, idtLimit = 0;
        Matcher t = TABLE.matcher(infoRegisters.replace("\r", ""));
        while (t.find()) {
            long b = Long.parseUnsignedLong(t.group(2), 16);
            int l = Integer.parseInt(t.group(3), 16);
            if (t.group(1).equals("GDT")) {
                gdtBase = b;
                gdtLimit = l;
            } else {
                idtBase = b;
                idtLimit = l;
            }
        }
        Matcher c = CPL.matcher(infoRegisters);
        if (!c.find()) throw new IllegalStateException("QEMU's info registers lacks CPL:\n" + infoRegisters);
        Matcher h = HLT.matcher(infoRegisters);
        return new SegmentState(sel, base, limit, attr, gdtBase, gdtLimit, idtBase, idtLimit,
                Integer.parseInt(c.group(1)), c.group(2).equals("1"), h.find() && h.group(1).equals("1"));
    }

    /**
     * Differences in what this harness can compare of the hidden state (bases, limits, attributes,
     * tables, CPL). The Accessed bit (type bit 0) of code and data segments is not compared: QEMU
     * TCG leaves it clear when a far JMP/CALL/RET or IRET loads CS, where the SDM has the processor
     * set it (Vol. 3A §3.4.5.1); system descriptors (S=0: TSS, LDT) are compared whole.
     */
    java.util.List<String> differences(SegmentState expected) {
        java.util.List<String> d = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            int ignore = (attr[i] & expected.attr[i] & 0x10) != 0 ? 1 : 0;
            // TR's busy bit (type 9 vs 11): QEMU TCG caches the descriptor LTR read (available, 9),
            // the emulated CPU the busy type it writes back, as VMX/KVM report TR; nothing but a
            // task switch (never in long mode) reads the cached type, so it is not compared.
            if (i == 6) ignore |= 2;
            boolean nullData = i != 1 && i < 6 && (selector[i] & 0xFFFC) == 0 && (expected.selector[i] & 0xFFFC) == 0;
            if (nullData) {
                // A null selector in a data segment register: limit and attributes are not
                // architecturally visible (SDM Vol. 3A §3.4.4, §5.4.1: an unusable register).
                // QEMU keeps the old cache with P cleared (attr c013 after IRET to CPL 3), the
                // emulated CPU marks it unusable; only selector and the FS/GS base matter.
                if (selector[i] != expected.selector[i] || ((i == 4 || i == 5) && base[i] != expected.base[i])) {
                    d.add(String.format("%s: expected sel %04x base %x, ours sel %04x base %x", NAMES[i],
                            expected.selector[i], expected.base[i], selector[i], base[i]));
                }
                continue;
            }
            if (selector[i] != expected.selector[i] || base[i] != expected.base[i] || limit[i] != expected.limit[i]
                    || (attr[i] & ~ignore) != (expected.attr[i] & ~ignore)) {
                d.add(String.format("%s: expected sel %04x base %x limit %x attr %04x, ours sel %04x base %x limit %x attr %04x",
                        NAMES[i], expected.selector[i], expected.base[i], expected.limit[i], expected.attr[i],
                        selector[i], base[i], limit[i], attr[i]));
            }
        }
        if (gdtBase != expected.gdtBase || gdtLimit != expected.gdtLimit) d.add(String.format("GDTR: expected %x/%x, ours %x/%x", expected.gdtBase, expected.gdtLimit, gdtBase, gdtLimit));
        if (idtBase != expected.idtBase || idtLimit != expected.idtLimit) d.add(String.format("IDTR: expected %x/%x, ours %x/%x", expected.idtBase, expected.idtLimit, idtBase, idtLimit));
        if (cpl != expected.cpl) d.add("CPL: expected " + expected.cpl + ", ours " + cpl);
        return d;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            sb.append(String.format("%-3s=%04x base %x limit %x attr %04x%n", NAMES[i], selector[i], base[i], limit[i], attr[i]));
        }
        return sb.append(String.format("GDTR %x/%x IDTR %x/%x CPL %d shadow %b", gdtBase, gdtLimit, idtBase, idtLimit, cpl, interruptShadow)).toString();
    }
}
