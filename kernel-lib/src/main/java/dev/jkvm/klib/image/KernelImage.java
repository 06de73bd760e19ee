package dev.jkvm.klib.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * A bootable kernel file: ELF32 (EM_386) with PT_LOAD segments, a Multiboot v1 header with
 * address fields, and a symbol table. Built by {@link ImageBuilder}.
 */
public final class KernelImage {
    private final byte[] bytes;
    private final long entryPoint;
    private final long loadAddress;
    private final Map<String, Long> symbols;
    private final List<PlacedSection> sections;
    private final NavigableMap<Long, String> byAddress = new TreeMap<>();

    KernelImage(byte[] bytes, long entryPoint, long loadAddress, Map<String, Long> symbols, List<PlacedSection> sections) {
        this.bytes = bytes;
        this.entryPoint = entryPoint;
        this.loadAddress = loadAddress;
        this.symbols = Collections.unmodifiableMap(symbols);
        this.sections = List.copyOf(sections);
        symbols.forEach((name, address) -> byAddress.putIfAbsent(address, name));
    }

    /** The complete file contents. */
    public byte[] bytes() {
        return bytes.clone();
    }

    /** The 32-bit entry point (multiboot entry_addr and ELF e_entry). */
    public long entryPoint() {
        return entryPoint;
    }

    /** Address the first byte of the file is loaded at (the ELF/multiboot headers). */
    public long loadAddress() {
        return loadAddress;
    }

    /** Symbol name to absolute address, for every named label. */
    public Map<String, Long> symbols() {
        return symbols;
    }

    /** The placed section groups in address order. */
    public List<PlacedSection> sections() {
        return sections;
    }

    /** Nearest symbol at or below {@code address} as {@code name+0xoff}, or the hex address alone. */
    public String symbolize(long address) {
        Map.Entry<Long, String> e = byAddress.floorEntry(address);
        if (e == null) {
            return "0x" + Long.toHexString(address);
        }
        long off = address - e.getKey();
        return off == 0 ? e.getValue() : e.getValue() + "+0x" + Long.toHexString(off);
    }

    /** One line per section: name, address range and size; then the file size. */
    public String sizeReport() {
        StringBuilder sb = new StringBuilder();
        for (PlacedSection s : sections) {
            sb.append(String.format("%-8s 0x%08x-0x%08x %8d bytes%n", s.name(), s.address(), s.address() + s.size(), s.size()));
        }
        sb.append(String.format("file     %d bytes, entry 0x%08x, %d symbols%n", bytes.length, entryPoint, symbols.size()));
        return sb.toString();
    }

    /** Writes the file, creating parent directories. */
    public void writeTo(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.write(file, bytes);
    }
}
