package dev.jkvm.vmm.boot;

import static dev.jkvm.vmm.boot.ImageBytes.contains;
import static dev.jkvm.vmm.boot.ImageBytes.hex;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What goes where, decided from the image alone (no guest memory yet), so the CLI can refuse a
 * bad kernel before it creates a VM.
 *
 * @param elf the parsed ELF file when the segments came from its program headers, else null
 */
record LoadPlan(List<LoadSegment> segments, long entry, ElfFile elf) {
    private static final long FOUR_GIB = 1L << 32;
    /** Intel SDM Vol. 3A §4.1.4: MAXPHYADDR is at most 52, so no guest-physical address reaches 2^52. */
    private static final long PHYSICAL_LIMIT = 1L << 52;

    long start() { return segments.stream().mapToLong(LoadSegment::address).min().orElseThrow(); }
    long end() { return segments.stream().mapToLong(LoadSegment::end).max().orElseThrow(); }

    static LoadPlan of(String name, byte[] image, MultibootHeader header) {
        LoadPlan plan;
        if (header.hasAddressFields()) {
            plan = fromAddressFields(name, image, header);
        } else if (ElfFile.isElf(image)) {
            plan = fromElf(name, ElfFile.parse(name, image));
        } else {
            throw new MultibootException(name + " is not a multiboot kernel: no ELF header and no multiboot address fields"
                    + " (flag bit 16); link it as ELF or set the address fields (Multiboot 0.6.96 §3.1.3)");
        }
        plan.checkNoOverlap(name);
        plan.checkEntry(name);
        return plan;
    }

    /** §3.1.3: the a.out kludge, a flat image placed by the header's own address fields. */
    private static LoadPlan fromAddressFields(String name, byte[] image, MultibootHeader h) {
        String fields = " (multiboot address fields, Multiboot 0.6.96 §3.1.3)";
        if (h.loadAddr() > h.headerAddr()) {
            throw new MultibootException(name + ": load_addr " + hex(h.loadAddr()) + " is above header_addr "
                    + hex(h.headerAddr()) + fields + "; load_addr must not exceed header_addr");
        }
        long textOffset = h.fileOffset() - (h.headerAddr() - h.loadAddr());
        if (textOffset < 0) {
            throw new MultibootException(name + ": header_addr - load_addr = " + hex(h.headerAddr() - h.loadAddr())
                    + " is more than the header's file offset " + hex(h.fileOffset()) + fields
                    + "; loading would start before the file, fix header_addr or load_addr");
        }
        long fileSize;
        if (h.loadEndAddr() == 0) {
            fileSize = image.length - textOffset;
        } else if (h.loadEndAddr() < h.loadAddr()) {
            throw new MultibootException(name + ": load_end_addr " + hex(h.loadEndAddr()) + " is below load_addr "
                    + hex(h.loadAddr()) + fields + "; fix the header");
        } else {
            fileSize = h.loadEndAddr() - h.loadAddr();
        }
        if (!contains(image, textOffset, fileSize)) {
            throw new MultibootException(name + ": load_end_addr asks for file bytes [" + hex(textOffset) + ", "
                    + hex(textOffset + fileSize) + ") but the file has only " + image.length
                    + " bytes; the kernel image is truncated or load_end_addr is wrong");
        }
        long memorySize = fileSize;
        if (h.bssEndAddr() != 0) {
            if (h.bssEndAddr() < h.loadAddr() + fileSize) {
                throw new MultibootException(name + ": bss_end_addr " + hex(h.bssEndAddr()) + " is below the end of the loaded data "
                        + hex(h.loadAddr() + fileSize) + fields + "; fix the header");
            }
            memorySize = h.bssEndAddr() - h.loadAddr();
        }
        checkAddressRange(name, "the a.out-kludge image", h.loadAddr(), memorySize, FOUR_GIB,
                "4 GiB, the end of the 32-bit address space" + fields);
        LoadSegment s = new LoadSegment("a.out-kludge image", textOffset, fileSize, h.loadAddr(), memorySize);
        return new LoadPlan(List.of(s), h.entryAddr(), null);
    }

    /** §3.1: without address fields the image must be ELF; every PT_LOAD goes to its p_paddr. */
    private static LoadPlan fromElf(String name, ElfFile elf) {
        long entry = physicalEntry(elf);
        List<LoadSegment> segments = new ArrayList<>();
        ElfSegment headersOnly = null;
        for (ElfSegment p : elf.segments()) {
            // Empty PT_LOAD entries exist in real files; there is nothing to place.
            if (!p.isLoad() || p.memorySize() == 0) continue;
            String segmentName = "ELF segment " + p.index();
            // Unsigned: p_memsz 2^63 is a huge size, not a negative one.
            if (Long.compareUnsigned(p.fileSize(), p.memorySize()) > 0) {
                throw new MultibootException(name + ": " + segmentName + " has p_filesz " + hex(p.fileSize())
                        + " larger than p_memsz " + hex(p.memorySize()) + "; the file is damaged");
            }
            checkAddressRange(name, segmentName, p.physicalAddress(), p.memorySize(), elf.is64() ? PHYSICAL_LIMIT : FOUR_GIB,
                    elf.is64() ? "the 52-bit physical address space (Intel SDM Vol. 3A §4.1.4, MAXPHYADDR)"
                            : "4 GiB, the end of an ELF32 kernel's address space");
            if (holdsOnlyFileHeaders(elf, p) && !holds(p, entry)
                    && ReservedArea.anyOverlaps(p.physicalAddress(), p.physicalAddress() + p.memorySize())) {
                headersOnly = p;
                continue;
            }
            if (!contains(elf.image(), p.offset(), p.fileSize())) {
                throw elf.truncated(segmentName, p.offset(), p.fileSize());
            }
            segments.add(new LoadSegment(segmentName, p.offset(), p.fileSize(), p.physicalAddress(), p.memorySize()));
        }
        if (segments.isEmpty() && headersOnly != null) {
            throw new MultibootException(name + ": the only loadable segment, ELF segment " + headersOnly.index() + " ["
                    + hex(headersOnly.physicalAddress()) + ", " + hex(headersOnly.physicalAddress() + headersOnly.memorySize())
                    + "), holds just the ELF headers, below 1 MiB, and not the entry point " + hex(entry)
                    + ": there is no kernel code to load; check the linker script's program headers");
        }
        if (segments.isEmpty()) {
            throw new MultibootException(name + ": the ELF file has no loadable segment (PT_LOAD); link the kernel as an executable");
        }
        return new LoadPlan(List.copyOf(segments), entry, elf);
    }

    /**
     * Refuses {@code [address, address + size)} unless it ends at or below {@code limit}, which is
     * far below 2^63, so every later sum and comparison of addresses is plain long arithmetic.
     */
    private static void checkAddressRange(String name, String what, long address, long size, long limit, String limitName) {
        long end = address + size;
        if (Long.compareUnsigned(end, address) < 0) {
            throw new MultibootException(name + ": " + what + " at " + hex(address) + " with size " + hex(size)
                    + " wraps past the end of the 64-bit address space; the file is damaged");
        }
        if (Long.compareUnsigned(end, limit) > 0) {
            throw new MultibootException(name + ": " + what + " [" + hex(address) + ", " + hex(end) + ") reaches beyond "
                    + limitName + "; link the kernel at 1 MiB");
        }
    }

    private static boolean holds(ElfSegment p, long physicalAddress) {
        return physicalAddress >= p.physicalAddress() && physicalAddress - p.physicalAddress() < p.memorySize();
    }

    /**
     * GNU ld (with -z separate-code, the default on x86) maps the ELF and program headers in a
     * read-only segment one page below the first section, so a kernel linked with
     * {@code -Ttext 0x100000} has a segment at 0xFF000, inside the BIOS/ACPI area. QEMU copies it
     * there; here it would overwrite the ACPI tables. It holds no code or data of the kernel, so
     * it is skipped when it would land in a reserved area and loaded like any segment otherwise.
     */
    private static boolean holdsOnlyFileHeaders(ElfFile elf, ElfSegment p) {
        return p.offset() == 0 && p.fileSize() == p.memorySize() && p.fileSize() <= elf.headersEnd();
    }

    /**
     * e_entry is a virtual address. A kernel linked high but loaded low (p_vaddr != p_paddr) is
     * entered at the physical address of its entry, translated through the executable segment
     * that contains it; QEMU's -kernel does the same, and identical kernels must start identically.
     */
    private static long physicalEntry(ElfFile elf) {
        long entry = elf.entry();
        for (ElfSegment p : elf.segments()) {
            if (p.isLoad() && p.isExecutable() && p.virtualAddress() != p.physicalAddress()
                    && Long.compareUnsigned(entry, p.virtualAddress()) >= 0
                    && Long.compareUnsigned(entry - p.virtualAddress(), p.fileSize()) < 0) {
                return entry - p.virtualAddress() + p.physicalAddress();
            }
        }
        return entry;
    }

    private void checkNoOverlap(String name) {
        List<LoadSegment> sorted = new ArrayList<>(segments);
        sorted.sort(Comparator.comparingLong(LoadSegment::address));
        for (int i = 1; i < sorted.size(); i++) {
            LoadSegment a = sorted.get(i - 1);
            LoadSegment b = sorted.get(i);
            if (b.address() < a.end()) {
                throw new MultibootException(name + ": " + a.name() + " " + a.range() + " overlaps " + b.name() + " "
                        + b.range() + "; relink the kernel so its segments do not overlap");
            }
        }
    }

    private void checkEntry(String name) {
        if (entry >= FOUR_GIB || entry < 0) {
            throw new MultibootException(name + ": entry point " + hex(entry) + " is at or above 4 GiB, but a multiboot"
                    + " kernel starts in 32-bit mode with paging off (Multiboot 0.6.96 §3.2); put the entry code below 4 GiB");
        }
        for (LoadSegment s : segments) {
            if (entry >= s.address() && entry < s.end()) return;
        }
        throw new MultibootException(name + ": entry point " + hex(entry) + " is not inside any loaded part of the kernel "
                + segments.stream().map(LoadSegment::range).toList() + "; check the entry symbol or entry_addr");
    }
}
