package dev.jkvm.klib.asm;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A named, contiguous piece of output (text, rodata, data, bss) created by
 * {@link Assembler#section(String, Kind)}. After assembly it yields its bytes, its symbols
 * (named labels) and the relocations the image builder must apply once section addresses are
 * known. PC-relative references between labels of the same section are resolved here.
 */
public final class Section {

    /** What a section holds; decides padding (NOPs in code) and whether bytes are stored. */
    public enum Kind {
        /** Executable code; alignment padding is NOPs. */
        CODE,
        /** Read-only data. */
        RODATA,
        /** Writable initialised data. */
        DATA,
        /** Zero-initialised data: only reservations allowed, no bytes stored in the image. */
        BSS
    }

    private final String name;
    private final Kind kind;
    private int alignment;
    final List<Fragment> fragments = new ArrayList<>();
    private final Map<String, Label> symbols = new LinkedHashMap<>();
    private int version;
    private Layout layout;

    private record Layout(int version, long[] starts, byte[] bytes, List<Relocation> relocations) {
    }

    Section(String name, Kind kind) {
        this.name = name;
        this.kind = kind;
        this.alignment = kind == Kind.CODE ? 16 : 8;
    }

    /** The section name, e.g. "text". */
    public String name() {
        return name;
    }

    /** What the section holds. */
    public Kind kind() {
        return kind;
    }

    /** Required alignment of the section's load address (a power of two). */
    public int alignment() {
        return alignment;
    }

    /** Raises the section's required alignment (never lowers it). */
    public void requireAlignment(int bytes) {
        checkPowerOfTwo(bytes);
        alignment = Math.max(alignment, bytes);
    }

    /** Size in bytes after layout (for bss, the reserved size). */
    public long size() {
        return layout().bytes.length;
    }

    /**
     * The laid-out bytes (zeros for bss and for fields of pending relocations). A copy:
     * apply {@link #relocations()} to it for the final image.
     */
    public byte[] bytes() {
        return layout().bytes.clone();
    }

    /** Fields to patch once section addresses are known. */
    public List<Relocation> relocations() {
        return layout().relocations;
    }

    /** Named labels bound in this section, in binding order. */
    public Map<String, Label> symbols() {
        return Collections.unmodifiableMap(symbols);
    }

    /**
     * The bytes as loaded at {@code address}, for self-contained sections (every relocation
     * targets this section). Throws naming the first foreign label otherwise.
     */
    public byte[] linkAt(long address) {
        byte[] out = bytes();
        for (Relocation r : relocations()) {
            if (r.target().section() != this) {
                throw new AsmException("section " + name + " refers to " + r.target() + " in section "
                        + (r.target().section() == null ? "(unbound)" : r.target().section().name())
                        + ": link all sections with the image builder instead of linkAt");
            }
        }
        return new SectionPlacement(address).place(this, address).linked(this);
    }

    long offsetOf(Label label) {
        if (label.section() != this) {
            throw new AsmException("label " + label + " is not in section " + name);
        }
        return layout().starts[label.fragment()] + label.offsetInFragment();
    }

    void addSymbol(Label label) {
        if (label.name() == null) {
            return;
        }
        if (symbols.putIfAbsent(label.name(), label) != null) {
            throw new AsmException("symbol " + label.name() + " is defined twice in section " + name + ": rename one");
        }
    }

    /** The fragment new bytes go to (a fresh data fragment after a branch or alignment). */
    Fragment.Data openData() {
        changed();
        if (!fragments.isEmpty() && fragments.getLast() instanceof Fragment.Data d) {
            return d;
        }
        if (kind == Kind.BSS) {
            throw new AsmException("section " + name + " is bss: only reserve() and align() are allowed there");
        }
        Fragment.Data d = new Fragment.Data();
        fragments.add(d);
        return d;
    }

    void add(Fragment f) {
        changed();
        fragments.add(f);
    }

    int bindingFragment() {
        changed();
        if (fragments.isEmpty() || !(fragments.getLast() instanceof Fragment.Data)) {
            if (kind == Kind.BSS) {
                fragments.add(new Fragment.Reserve(0));
                return fragments.size() - 1;
            }
            fragments.add(new Fragment.Data());
        }
        return fragments.size() - 1;
    }

    private void changed() {
        version++;
    }

    private Layout layout() {
        if (layout != null && layout.version == version) {
            return layout;
        }
        List<Fragment.Branch> branches = new ArrayList<>();
        for (Fragment f : fragments) {
            if (f instanceof Fragment.Branch b) {
                b.near = b.target.section() != this;
                if (!b.target.isBound()) {
                    throw new AsmException("label " + b.target + " is jumped to in section " + name
                            + " but never bound: call bind(label) where it belongs");
                }
                branches.add(b);
            }
        }
        long[] starts = new long[fragments.size() + 1];
        boolean grew = true;
        while (grew) {
            computeStarts(starts);
            grew = false;
            for (int i = 0; i < fragments.size(); i++) {
                if (fragments.get(i) instanceof Fragment.Branch b && !b.near) {
                    long target = starts[b.target.fragment()] + b.target.offsetInFragment();
                    long rel = target - (starts[i] + 2);
                    if (rel < -128 || rel > 127) {
                        b.near = true;
                        grew = true;
                    }
                }
            }
        }
        byte[] out = new byte[Math.toIntExact(starts[fragments.size()])];
        List<Relocation> relocations = new ArrayList<>();
        for (int i = 0; i < fragments.size(); i++) {
            int start = (int) starts[i];
            switch (fragments.get(i)) {
                case Fragment.Data d -> {
                    byte[] b = d.bytes.toByteArray();
                    System.arraycopy(b, 0, out, start, b.length);
                    for (Fixup fx : d.fixups) {
                        resolve(fx.shifted(start), out, starts, relocations);
                    }
                }
                case Fragment.Branch b -> emitBranch(b, start, out, starts, relocations);
                case Fragment.Align a -> {
                    int n = (int) (starts[i + 1] - start);
                    if (a.mode() != null) {
                        System.arraycopy(Nops.fill(n, a.mode()), 0, out, start, n);
                    } else {
                        java.util.Arrays.fill(out, start, start + n, (byte) a.fill());
                    }
                }
                case Fragment.Reserve r -> {
                }
            }
        }
        layout = new Layout(version, starts, out, Collections.unmodifiableList(relocations));
        return layout;
    }

    private void computeStarts(long[] starts) {
        long offset = 0;
        for (int i = 0; i < fragments.size(); i++) {
            starts[i] = offset;
            offset += fragments.get(i).size(offset);
        }
        starts[fragments.size()] = offset;
    }

    private void emitBranch(Fragment.Branch b, int start, byte[] out, long[] starts, List<Relocation> relocations) {
        int pos = start;
        if (!b.near) {
            out[pos++] = (byte) (b.cond == null ? 0xEB : 0x70 + b.cond.code());
            long target = starts[b.target.fragment()] + b.target.offsetInFragment();
            out[pos] = (byte) (target - (start + 2));
            return;
        }
        if (b.cond == null) {
            out[pos++] = (byte) 0xE9;
        } else {
            out[pos++] = 0x0F;
            out[pos++] = (byte) (0x80 + b.cond.code());
        }
        Relocation.Kind kind = b.mode == Mode.REAL16 ? Relocation.Kind.PC16 : Relocation.Kind.PC32;
        resolve(new Fixup(pos, kind, b.target, -kind.width()), out, starts, relocations);
    }

    private void resolve(Fixup fx, byte[] out, long[] starts, List<Relocation> relocations) {
        Label target = fx.target();
        if (!target.isBound()) {
            throw new AsmException("label " + target + " is referenced in section " + name
                    + " but never bound: call bind(label) where it belongs");
        }
        Relocation r = new Relocation(fx.position(), fx.kind(), target, fx.addend());
        if (fx.kind().isPcRelative() && target.section() == this) {
            long targetOffset = starts[target.fragment()] + target.offsetInFragment();
            r.apply(out, fx.position(), fx.position(), targetOffset);
        } else {
            relocations.add(r);
        }
    }

    static void checkPowerOfTwo(int bytes) {
        if (bytes <= 0 || Integer.bitCount(bytes) != 1) {
            throw new AsmException("alignment " + bytes + " is not a power of two: use 1, 2, 4, 8, 16, ...");
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
