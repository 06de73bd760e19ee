package dev.jkvm.klib.image;

import dev.jkvm.klib.asm.AsmException;
import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.asm.SectionPlacement;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lays out assembled sections into a Multiboot v1 kernel file that QEMU's {@code -kernel},
 * GRUB and jkvm's own loader accept, and links them: {@link SectionPlacement} gives each section
 * its address and applies its relocations.
 *
 * <p>Layout: the first page at the load address (1 MiB by default) holds the ELF header,
 * program headers and multiboot header; then all code sections, then rodata, data and bss,
 * each group starting on a 4 KiB boundary. File offsets mirror addresses (offset = address −
 * load address), which is what the multiboot address fields promise.
 */
public final class ImageBuilder {
    /** 1 MiB: above the real-mode area and legacy holes, the usual multiboot load address. */
    public static final long DEFAULT_LOAD_ADDRESS = 0x100000;
    private static final int PAGE = 4096;
    private static final Section.Kind[] ORDER = {Section.Kind.CODE, Section.Kind.RODATA, Section.Kind.DATA, Section.Kind.BSS};

    private long loadAddress = DEFAULT_LOAD_ADDRESS;
    private final List<Section> sections = new ArrayList<>();
    private Label entry;

    /** Sets the load address (page aligned, below 4 GiB). */
    public ImageBuilder loadAddress(long address) {
        if (address % PAGE != 0 || address < 0 || address >= 1L << 32) {
            throw new AsmException("load address 0x" + Long.toHexString(address) + " must be page aligned and below 4 GiB");
        }
        this.loadAddress = address;
        return this;
    }

    /** Adds every section of {@code assembler}. */
    public ImageBuilder add(Assembler assembler) {
        for (Section s : assembler.sections()) {
            add(s);
        }
        return this;
    }

    /** Adds one section. */
    public ImageBuilder add(Section section) {
        if (!sections.contains(section)) {
            sections.add(section);
        }
        return this;
    }

    /** The 32-bit protected-mode entry point the loader jumps to (Multiboot §3.2 machine state). */
    public ImageBuilder entry(Label label) {
        this.entry = label;
        return this;
    }

    /** Lays out, links and writes the image. */
    public KernelImage build() {
        if (entry == null) {
            throw new AsmException("no entry point: call entry(label) with the 32-bit multiboot entry label");
        }
        SectionPlacement placement = new SectionPlacement(loadAddress + PAGE);
        List<PlacedSection> groups = new ArrayList<>();
        Map<Section.Kind, Integer> groupIndex = new HashMap<>();
        long loadedEnd = placement.end();
        for (Section.Kind kind : ORDER) {
            List<Section> members = sections.stream().filter(s -> s.kind() == kind && s.size() > 0).toList();
            if (members.isEmpty()) {
                continue;
            }
            long start = placement.alignEnd(PAGE);
            for (Section s : members) {
                placement.append(s, 1);
            }
            groupIndex.put(kind, groups.size());
            groups.add(new PlacedSection(Elf32Writer.names().get(kind), kind, start, placement.end() - start, start - loadAddress));
            if (kind != Section.Kind.BSS) {
                loadedEnd = placement.end();
            }
        }
        long bssEnd = placement.end();
        if (bssEnd >= 1L << 32) {
            throw new AsmException("image ends at 0x" + Long.toHexString(bssEnd) + ", beyond 4 GiB: lower the load address or shrink bss");
        }
        // Empty sections hold no bytes, only labels: they all sit at the end of the image.
        for (Section s : sections) {
            if (!placement.isPlaced(s)) {
                placement.place(s, SectionPlacement.alignUp(bssEnd, Math.max(1, s.alignment())));
            }
        }

        byte[] loaded = new byte[Math.toIntExact(loadedEnd - loadAddress)];
        for (Section s : sections) {
            if (s.kind() == Section.Kind.BSS || s.size() == 0) {
                continue;
            }
            byte[] bytes = placement.linked(s);
            System.arraycopy(bytes, 0, loaded, (int) (placement.address(s) - loadAddress), bytes.length);
        }

        long entryAddress = placement.address(entry);
        List<PlacedSection> segments = new ArrayList<>();
        segments.add(new PlacedSection("headers", Section.Kind.RODATA, loadAddress, PAGE, 0));
        segments.addAll(groups);
        int headerEnd = Elf32Writer.headerSize(segments.size());
        int multibootOffset = (headerEnd + 7) & ~7;
        if (multibootOffset + MultibootHeader.SIZE > MultibootHeader.SEARCH_LIMIT) {
            throw new AsmException("too many segments: the multiboot header would leave the first 8 KiB");
        }
        byte[] multiboot = MultibootHeader.encode(loadAddress + multibootOffset, loadAddress, loadedEnd, bssEnd, entryAddress);
        System.arraycopy(multiboot, 0, loaded, multibootOffset, multiboot.length);

        Map<String, Long> symbols = new LinkedHashMap<>();
        List<Elf32Writer.Symbol> elfSymbols = new ArrayList<>();
        for (Section s : sections) {
            for (Map.Entry<String, Label> e : s.symbols().entrySet()) {
                long at = placement.address(s) + e.getValue().offset();
                if (symbols.putIfAbsent(e.getKey(), at) != null) {
                    throw new AsmException("symbol " + e.getKey() + " is defined in two sections: rename one");
                }
                Integer group = groupIndex.get(s.kind());
                if (group != null) {
                    elfSymbols.add(new Elf32Writer.Symbol(e.getKey(), at, group, s.kind() == Section.Kind.CODE));
                }
            }
        }
        byte[] file = Elf32Writer.write(loaded, loadAddress, entryAddress, segments, groups, elfSymbols);
        return new KernelImage(file, entryAddress, loadAddress, symbols, groups);
    }
}
