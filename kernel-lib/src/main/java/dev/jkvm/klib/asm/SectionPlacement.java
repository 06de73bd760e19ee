package dev.jkvm.klib.asm;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Where assembled sections are loaded, and their bytes linked for those addresses: the one
 * placement and relocation step shared by the image builder (dev.jkvm.klib.image.ImageBuilder)
 * and the loaders that run compiled code in the host process (the compiler's and the kernel's
 * native tests).
 *
 * <p>Linking applies every {@link Relocation} of a section with the arithmetic of ELF RELA
 * entries: S is the address of the target label's section here plus the label's offset, A the
 * addend, P the field's own address. The kinds are the System V x86-64 psABI's (AMD64
 * Architecture Processor Supplement, section 4.4.1 "Relocation Types"): {@link Relocation.Kind#ABS64}
 * is R_X86_64_64 (word64, S + A), {@link Relocation.Kind#PC32} R_X86_64_PC32 (word32, S + A - P),
 * {@link Relocation.Kind#ABS32} R_X86_64_32 (word32, S + A, must zero-extend to the value),
 * {@link Relocation.Kind#ABS32S} R_X86_64_32S (word32, S + A, must sign-extend to the value),
 * {@link Relocation.Kind#ABS16} R_X86_64_16 (word16, S + A) and {@link Relocation.Kind#PC16}
 * R_X86_64_PC16 (word16, S + A - P). A value that does not fit its field is an AsmException.
 *
 * <p>Sections are placed one by one, either at a given address ({@link #place}) or after the
 * last one ({@link #append}); a placement laid out at offsets from 0 before the memory exists
 * is moved to where the memory was mapped with {@link #movedBy}.
 */
public final class SectionPlacement {
    private final Map<Section, Long> addresses = new IdentityHashMap<>();
    private long end;

    /** @param start the address {@link #append} places the first section at (before alignment) */
    public SectionPlacement(long start) {
        this.end = start;
    }

    /**
     * Places the section at address (the caller aligns it). Later {@link #append}s go after
     * whatever ends last.
     */
    public SectionPlacement place(Section section, long address) {
        if (addresses.putIfAbsent(section, address) != null) {
            throw new AsmException("section " + section.name() + " is placed twice: add it once");
        }
        end = Math.max(end, address + section.size());
        return this;
    }

    /**
     * Places the section after the last one, at the next multiple of its alignment or of
     * minimumAlignment, whichever is larger; returns its address.
     */
    public long append(Section section, long minimumAlignment) {
        long address = alignUp(end, Math.max(minimumAlignment, section.alignment()));
        place(section, address);
        return address;
    }

    /** Moves the end to the next multiple of alignment (a group of sections starts there); returns it. */
    public long alignEnd(long alignment) {
        end = alignUp(end, alignment);
        return end;
    }

    /** The first address after every placed section (and after the start). */
    public long end() {
        return end;
    }

    public boolean isPlaced(Section section) {
        return addresses.containsKey(section);
    }

    /** Where the section starts. */
    public long address(Section section) {
        Long address = addresses.get(section);
        if (address == null) {
            throw new AsmException("section " + section.name() + " is not part of the image: add it (or its assembler)"
                    + " to the image builder or loader");
        }
        return address;
    }

    /** Where the label is: its section's address plus its offset. */
    public long address(Label label) {
        if (!label.isBound()) {
            throw new AsmException("label " + label + " is referenced but never bound: call bind(label) where it belongs");
        }
        Long base = addresses.get(label.section());
        if (base == null) {
            throw new AsmException("label " + label + " lives in section " + label.section().name()
                    + ", which is not part of the image: add it (or its assembler) to the image builder or loader");
        }
        return base + label.offset();
    }

    /** The section's bytes with every relocation applied for the placed addresses. */
    public byte[] linked(Section section) {
        long base = address(section);
        byte[] bytes = section.bytes();
        for (Relocation r : section.relocations()) {
            r.apply(bytes, Math.toIntExact(r.offset()), base + r.offset(), address(r.target()));
        }
        return bytes;
    }

    /** The same layout displaced by delta: offsets from 0 become addresses in mapped memory. */
    public SectionPlacement movedBy(long delta) {
        SectionPlacement moved = new SectionPlacement(end + delta);
        addresses.forEach((section, address) -> moved.addresses.put(section, address + delta));
        return moved;
    }

    /** v rounded up to a multiple of alignment (alignment > 0). */
    public static long alignUp(long v, long alignment) {
        return (v + alignment - 1) / alignment * alignment;
    }
}
