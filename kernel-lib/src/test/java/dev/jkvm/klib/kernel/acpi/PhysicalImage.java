package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.HostArena;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A native buffer standing in for guest-physical memory, filled from captured segments
 * (files named mem-HEXADDRESS.bin), with the edits broken-table tests need. Locating tables here
 * is deliberately plain Java over the bytes, independent of the kernel code under test.
 */
final class PhysicalImage implements AutoCloseable {
    /** Where edited copies of tables go: above everything the fixtures occupy. */
    private static final long SCRATCH = 0x100000;

    private final Arena arena = HostArena.ofConfined();
    private final MemorySegment memory;
    private long scratchNext = SCRATCH;

    private PhysicalImage(long size) {
        memory = arena.allocate(size, 4096);
    }

    /** A fixture directory under src/test/resources/acpi. */
    static PhysicalImage fixture(String name, long size) {
        try {
            return load(Path.of(PhysicalImage.class.getResource("/acpi/" + name).toURI()), size);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static PhysicalImage load(Path dir, long size) {
        PhysicalImage image = new PhysicalImage(size);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.getFileName().toString().matches("mem-[0-9a-f]{8}\\.bin")).toList()) {
                String name = file.getFileName().toString();
                long address = Long.parseLong(name.substring(4, 12), 16);
                image.write(address, Files.readAllBytes(file));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (image.scratchNext < size / 2) {
            image.scratchNext = Math.max(SCRATCH, size / 2);
        }
        return image;
    }

    long base() {
        return memory.address();
    }

    long size() {
        return memory.byteSize();
    }

    int u8(long physical) {
        return memory.get(ValueLayout.JAVA_BYTE, physical) & 0xFF;
    }

    long u32(long physical) {
        return memory.get(ValueLayout.JAVA_INT_UNALIGNED, physical) & 0xFFFFFFFFL;
    }

    long u64(long physical) {
        return memory.get(ValueLayout.JAVA_LONG_UNALIGNED, physical);
    }

    void put8(long physical, int value) {
        memory.set(ValueLayout.JAVA_BYTE, physical, (byte) value);
    }

    void put32(long physical, long value) {
        memory.set(ValueLayout.JAVA_INT_UNALIGNED, physical, (int) value);
    }

    void put64(long physical, long value) {
        memory.set(ValueLayout.JAVA_LONG_UNALIGNED, physical, value);
    }

    void write(long physical, byte[] bytes) {
        MemorySegment.copy(bytes, 0, memory, ValueLayout.JAVA_BYTE, physical, bytes.length);
    }

    byte[] read(long physical, int length) {
        return memory.asSlice(physical, length).toArray(ValueLayout.JAVA_BYTE);
    }

    /** The RSDP, by a straight scan of 0xE0000–0xFFFFF and the EBDA for the signature text. */
    long rsdp() {
        long ebda = (long) (u8(0x40E) | u8(0x40F) << 8) << 4;
        List<Long> candidates = new ArrayList<>();
        for (long a = ebda; ebda != 0 && a < ebda + 1024; a += 16) {
            candidates.add(a);
        }
        for (long a = 0xE0000; a < 0x100000; a += 16) {
            candidates.add(a);
        }
        for (long a : candidates) {
            if (new String(read(a, 8), java.nio.charset.StandardCharsets.US_ASCII).equals("RSD PTR ")) {
                return a;
            }
        }
        throw new IllegalStateException("fixture has no RSDP");
    }

    long rsdt() {
        return u32(rsdp() + 16);
    }

    /** XSDT address, or 0 for a revision-0 RSDP. */
    long xsdt() {
        long rsdp = rsdp();
        return u8(rsdp + 15) >= 2 ? u64(rsdp + 24) : 0;
    }

    long length(long table) {
        return u32(table + 4);
    }

    String signature(long table) {
        return new String(read(table, 4), java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** Every table the RSDT lists, or the XSDT where there is no RSDT (QEMU's microvm). */
    List<Long> rsdtEntries() {
        long rsdt = rsdt();
        List<Long> entries = new ArrayList<>();
        if (rsdt == 0) {
            long xsdt = xsdt();
            for (long at = xsdt + 36; at < xsdt + length(xsdt); at += 8) {
                entries.add(u64(at));
            }
            return entries;
        }
        for (long at = rsdt + 36; at < rsdt + length(rsdt); at += 4) {
            entries.add(u32(at));
        }
        return entries;
    }

    long table(String signature) {
        for (long t : rsdtEntries()) {
            if (signature(t).equals(signature)) {
                return t;
            }
        }
        throw new IllegalStateException("fixture lists no " + signature);
    }

    byte[] tableBytes(String signature) {
        long t = table(signature);
        return read(t, (int) length(t));
    }

    /** Recomputes the header checksum (byte 9) of the table at this address. */
    void fixChecksum(long table) {
        fixChecksum(table, (int) length(table), 9);
    }

    void fixChecksum(long start, int length, int checksumOffset) {
        put8(start + checksumOffset, 0);
        int sum = 0;
        for (int i = 0; i < length; i++) {
            sum += u8(start + i);
        }
        put8(start + checksumOffset, -sum);
    }

    /** Copies the bytes into free memory; returns their address. */
    long place(byte[] bytes) {
        long at = scratchNext;
        write(at, bytes);
        scratchNext = (at + bytes.length + 15) & ~15L;
        return at;
    }

    /**
     * Puts a new version of the table (whose header length is taken from the bytes as given)
     * into free memory, points the RSDT and XSDT entries for it there, and repairs their checksums.
     * The new table's own checksum is left as given: callers decide whether it is valid.
     */
    long replace(String signature, byte[] table) {
        long old = table(signature);
        long at = place(table);
        long rsdt = rsdt();
        if (rsdt != 0) {
            for (long e = rsdt + 36; e < rsdt + length(rsdt); e += 4) {
                if (u32(e) == old) {
                    put32(e, at);
                }
            }
            fixChecksum(rsdt);
        }
        long xsdt = xsdt();
        if (xsdt != 0) {
            for (long e = xsdt + 36; e < xsdt + length(xsdt); e += 8) {
                if (u64(e) == old) {
                    put64(e, at);
                }
            }
            fixChecksum(xsdt);
        }
        return at;
    }

    /** A table's bytes with a new length and a valid checksum. */
    static byte[] sealed(byte[] table) {
        java.nio.ByteBuffer.wrap(table).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(4, table.length);
        table[9] = 0;
        int sum = 0;
        for (byte b : table) {
            sum += b;
        }
        table[9] = (byte) -sum;
        return table;
    }

    @Override
    public void close() {
        arena.close();
    }
}
