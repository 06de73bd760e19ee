package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.memory.GuestMemory;

import java.util.ArrayList;
import java.util.List;

/**
 * Loads a Multiboot v1 kernel (Multiboot Specification 0.6.96) into guest memory and writes the
 * multiboot information for it. Kernels that boot with QEMU's {@code -kernel} load the same way:
 * header search (§3.1.1), address fields (§3.1.3) before ELF, ELF segments at p_paddr, and the
 * entry translated to a physical address. Beyond QEMU, ELF64 (EM_X86_64) images with an entry
 * below 4 GiB are accepted and the ELF section headers are passed on (§3.3 flags bit 5).
 */
public final class MultibootLoader {
    private MultibootLoader() {}

    /** §3.2: the value in EAX that tells the kernel a multiboot loader started it. */
    public static final int MULTIBOOT_BOOTLOADER_MAGIC = 0x2BADB002;

    private static final String DEFAULT_NAME = "kernel image";
    private static final long PAGE = 4096;

    /**
     * Checks everything about the image that does not depend on the VM's memory size. Prefer
     * {@link #check(String, byte[], long)}, which also checks where the kernel goes.
     */
    public static void checkHeader(byte[] image) {
        checkHeader(DEFAULT_NAME, image);
    }

    /** As {@link #checkHeader(byte[])}; {@code name} (e.g. the file name) starts every message. */
    public static void checkHeader(String name, byte[] image) {
        prepare(name, image);
    }

    /**
     * The whole verdict on a kernel for a VM with {@code memorySize} bytes of RAM: the file
     * (header, ELF tables, symbols) and where it would go (RAM, reserved areas, the PCI hole,
     * overlaps, entry point). A pure function of its arguments, called before any accelerator is
     * opened, so a file gets the same verdict on every host; {@link #load} then refuses exactly
     * what this refuses.
     *
     * @throws MultibootException with one line naming the cause and the fix
     */
    public static void check(String name, byte[] image, long memorySize) {
        Prepared prepared = prepare(name, image);
        KernelPlacement.check(name, prepared.plan().segments(), RamRange.of(memorySize));
    }

    private record Prepared(LoadPlan plan, SymbolTable symbols) {}

    private static Prepared prepare(String name, byte[] image) {
        LoadPlan plan = LoadPlan.of(name, image, MultibootHeader.find(name, image));
        SymbolTable symbols = plan.elf() != null ? SymbolTable.of(plan.elf()) : SymbolTable.of(image);
        // The tables load() copies for the kernel are checked here, so check() refuses them too.
        if (plan.elf() != null) symbolData(plan.elf());
        return new Prepared(plan, symbols);
    }

    /** §3.3 flags bit 5: the symbol and string tables a kernel gets a copy of, each checked to lie in the file. */
    private static List<ElfSection> symbolData(ElfFile elf) {
        List<ElfSection> list = new ArrayList<>();
        for (ElfSection s : elf.sections()) {
            boolean symbolData = s.type() == ElfSection.SHT_SYMTAB || s.type() == ElfSection.SHT_STRTAB;
            if (!symbolData || s.isAllocated() || !s.hasFileBytes()) continue;
            elf.requireInFile(s, "an ELF symbol or string table");
            list.add(s);
        }
        return list;
    }

    public static BootInfo load(byte[] image, GuestMemory mem, String cmdline) {
        return load(DEFAULT_NAME, image, mem, cmdline);
    }

    /** As {@link #load(byte[], GuestMemory, String)}; {@code name} (e.g. the file name) starts every message. */
    public static BootInfo load(String name, byte[] image, GuestMemory mem, String cmdline) {
        MultibootInfo.checkCommandLine(cmdline);
        Prepared prepared = prepare(name, image);
        LoadPlan plan = prepared.plan();
        KernelPlacement.check(name, plan.segments(), RamRange.of(mem));
        MultibootInfo.checkMemory(mem);

        for (LoadSegment s : plan.segments()) {
            writePieces(mem, s.address(), image, s.fileOffset(), s.fileSize());
            zeroPieces(mem, s.address() + s.fileSize(), s.memorySize() - s.fileSize());
        }
        long kernelEnd = plan.end();
        CopiedSections sections = plan.elf() == null ? null : copySectionTables(plan.elf(), mem, alignUp(kernelEnd));
        if (sections != null) kernelEnd = sections.end();
        long mbi = MultibootInfo.write(mem, cmdline, sections == null ? null : sections.table());
        return new BootInfo(plan.entry(), mbi, plan.start(), kernelEnd, prepared.symbols());
    }

    private static void writePieces(GuestMemory mem, long address, byte[] image, long offset, long length) {
        for (GuestMemory.Region r : mem.regions()) {
            long start = Math.max(address, r.base());
            long end = Math.min(address + length, r.end());
            if (start < end) mem.write(start, image, (int) (offset + start - address), (int) (end - start));
        }
    }

    private static void zeroPieces(GuestMemory mem, long address, long length) {
        for (GuestMemory.Region r : mem.regions()) {
            long start = Math.max(address, r.base());
            long end = Math.min(address + length, r.end());
            if (start < end) mem.fill(start, end - start, (byte) 0);
        }
    }

    private static long alignUp(long address) {
        return (address + PAGE - 1) & -PAGE;
    }

    private record CopiedSections(SectionHeaderTable table, long end) {}
    private record Placement(ElfSection section, long address) {}

    /**
     * §3.3 flags bit 5: copies the section header table and the (not otherwise loaded) symbol and
     * string tables after the kernel, page aligned, and points the copied headers' sh_addr at the
     * copies, so a kernel can read its own symbols as under GRUB. Other unloaded sections (debug
     * info, comments) keep sh_addr 0: they are not in memory. For ELF64 the table keeps its 64-byte
     * entries; the info's "size" field says so. When the copy does not fit in RAM below 4 GiB the
     * bit stays clear: the tables are an extra, not a reason to refuse a kernel that would boot.
     */
    private static CopiedSections copySectionTables(ElfFile elf, GuestMemory mem, long base) {
        List<ElfSection> sections = elf.sections();
        if (sections.isEmpty()) return null;
        long tableBytes = (long) sections.size() * elf.sectionHeaderSize();
        long next = base + tableBytes;
        List<Placement> placements = new ArrayList<>();
        for (ElfSection s : symbolData(elf)) {
            next = (next + 7) & -8L;
            placements.add(new Placement(s, next));
            next += s.size();
        }
        long end = next;
        if (end > 1L << 32 || !RamRange.covers(RamRange.of(mem), base, end)) return null;
        if (ReservedArea.anyOverlaps(base, end)) return null;

        byte[] table = new byte[(int) tableBytes];
        System.arraycopy(elf.image(), (int) elf.sectionTableOffset(), table, 0, table.length);
        for (Placement p : placements) {
            ElfSection s = p.section();
            writePieces(mem, p.address(), elf.image(), s.offset(), s.size());
            int addressField = s.index() * elf.sectionHeaderSize() + (elf.is64() ? 16 : 12);
            putAddress(table, addressField, p.address(), elf.is64());
        }
        writePieces(mem, base, table, 0, table.length);
        SectionHeaderTable info = new SectionHeaderTable(sections.size(), elf.sectionHeaderSize(), base, elf.sectionNamesIndex());
        return new CopiedSections(info, end);
    }

    private static void putAddress(byte[] table, int at, long value, boolean wide) {
        int bytes = wide ? 8 : 4;
        for (int i = 0; i < bytes; i++) table[at + i] = (byte) (value >>> (8 * i));
    }
}
