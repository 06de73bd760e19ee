package dev.jkvm.klib.fuzz;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Makes fuzzed ACPI tables pass their checksums (ACPI 6.5 §5.2.5.3 RSDP, §5.2.6 SDT header), so
 * the fuzzer reaches the parsers behind the checks. Plain Java over the buffer, independent of
 * the kernel code under test, and bounded: only structures wholly inside the buffer are touched.
 */
final class ChecksumFixer {
    private ChecksumFixer() {}

    private static final long RSDP_SIGNATURE = 0x2052545020445352L; // "RSD PTR "
    private static final int FADT = 0x50434146; // "FACP"
    private static final int MAX_TABLE = 1 << 20;

    /** Fixes every checksum it can; each byte it changes is added to {@code touched} as {address, 1}. */
    static void fix(MemorySegment memory, List<long[]> chunks, List<long[]> touched) {
        summed = 0;
        for (long[] chunk : chunks) {
            for (long at = (chunk[0] + 15) & -16L; at + 36 <= chunk[0] + chunk[1]; at += 16) {
                if (memory.get(ValueLayout.JAVA_LONG_UNALIGNED, at) == RSDP_SIGNATURE) fixRsdp(memory, at, touched);
            }
        }
    }

    private static void fixRsdp(MemorySegment m, long rsdp, List<long[]> touched) {
        fixRoot(m, Integer.toUnsignedLong(m.get(ValueLayout.JAVA_INT_UNALIGNED, rsdp + 16)), 4, touched);
        fixRoot(m, m.get(ValueLayout.JAVA_LONG_UNALIGNED, rsdp + 24), 8, touched);
        sum(m, rsdp, 20, rsdp + 8, touched);
        long length = Integer.toUnsignedLong(m.get(ValueLayout.JAVA_INT_UNALIGNED, rsdp + 20));
        if (length >= 36 && length <= 4096 && inside(m, rsdp, length)) sum(m, rsdp, length, rsdp + 32, touched);
    }

    private static void fixRoot(MemorySegment m, long root, int entrySize, List<long[]> touched) {
        long length = tableLength(m, root);
        if (length < 0) return;
        for (long e = root + 36; e + entrySize <= root + length; e += entrySize) {
            long table = entrySize == 4 ? Integer.toUnsignedLong(m.get(ValueLayout.JAVA_INT_UNALIGNED, e))
                    : m.get(ValueLayout.JAVA_LONG_UNALIGNED, e);
            long tableLength = tableLength(m, table);
            if (tableLength < 0 || table == root) continue;
            if (m.get(ValueLayout.JAVA_INT_UNALIGNED, table) == FADT && tableLength >= 44) {
                fixTable(m, Integer.toUnsignedLong(m.get(ValueLayout.JAVA_INT_UNALIGNED, table + 40)), touched);
                if (tableLength >= 148) fixTable(m, m.get(ValueLayout.JAVA_LONG_UNALIGNED, table + 140), touched);
            }
            fixTable(m, table, touched);
        }
        fixTable(m, root, touched);
    }

    private static void fixTable(MemorySegment m, long table, List<long[]> touched) {
        long length = tableLength(m, table);
        if (length >= 0) sum(m, table, length, table + 9, touched);
    }

    /** The SDT header's length, or -1 when the table does not lie wholly in the buffer. */
    private static long tableLength(MemorySegment m, long table) {
        if (!inside(m, table, 36)) return -1;
        long length = Integer.toUnsignedLong(m.get(ValueLayout.JAVA_INT_UNALIGNED, table + 4));
        return length >= 36 && length <= MAX_TABLE && inside(m, table, length) ? length : -1;
    }

    private static boolean inside(MemorySegment m, long at, long length) {
        return at >= 0 && length >= 0 && at <= m.byteSize() && length <= m.byteSize() - at;
    }

    /**
     * Bytes one input may have summed: a root table of many entries, each naming a large table,
     * made the fixer (not the kernel) run past Jazzer's 10 s limit per input under its hooks
     * (corpus entry timeout-0de97b3e...). Tables past the budget keep their checksums.
     */
    private static final long SUM_BUDGET = 1L << 20;
    private static long summed;

    /** Sets the byte at {@code checksum} so that [start, start+length) sums to 0 mod 256. */
    private static void sum(MemorySegment m, long start, long length, long checksum, List<long[]> touched) {
        if (summed > SUM_BUDGET - length) return;
        summed += length;
        touched.add(new long[] {checksum, 1});
        m.set(ValueLayout.JAVA_BYTE, checksum, (byte) 0);
        int total = 0;
        for (long i = 0; i < length; i++) total += m.get(ValueLayout.JAVA_BYTE, start + i);
        m.set(ValueLayout.JAVA_BYTE, checksum, (byte) -total);
    }
}
