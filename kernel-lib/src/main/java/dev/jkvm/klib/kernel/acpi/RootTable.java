package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.Console;

/**
 * The table of table pointers: the XSDT (§5.2.8, 64-bit entries) when the RSDP has a valid one,
 * else the RSDT (§5.2.7, 32-bit entries, ACPI 1.0). §5.2.5.3 says OSPM uses the XSDT when present.
 *
 * Defect policy: an XSDT that fails its checks (outside memory, wrong signature, bad length or
 * checksum) is reported and the RSDT is used instead; if that fails too there are no tables.
 * Entries that point outside physical memory are reported once, when the root table is
 * selected, and skipped by findTable. A root table whose entry area is not a whole number of
 * entries is reported and its partial trailing entry ignored.
 */
public final class RootTable {
    private RootTable() {
    }

    public static final long NOT_FOUND = -1;

    private static long root;
    private static int entrySize;
    private static int entryCount;

    /** Selects the XSDT or RSDT the RSDP points to; false when neither is usable. */
    public static boolean select(long rsdp) {
        root = NOT_FOUND;
        entryCount = 0;
        long xsdt = Rsdp.xsdtAddress(rsdp);
        if (xsdt != 0) {
            if (SdtHeader.isValid(xsdt, Signature.XSDT)) {
                use(xsdt, 8, Signature.XSDT);
                return true;
            }
            Console.print("acpi: falling back to the RSDT\n");
        }
        long rsdt = Rsdp.rsdtAddress(rsdp);
        if (rsdt != 0 && SdtHeader.isValid(rsdt, Signature.RSDT)) {
            use(rsdt, 4, Signature.RSDT);
            return true;
        }
        Console.print("acpi: neither XSDT nor RSDT is usable; no ACPI tables\n");
        return false;
    }

    private static void use(long table, int size, int signature) {
        root = table;
        entrySize = size;
        long payload = SdtHeader.length(table) - SdtHeader.SIZE;
        entryCount = (int) (payload / size);
        if (payload % size != 0) {
            Console.print("acpi: ");
            Signature.print(signature);
            Console.print(" entry area is not a whole number of entries; ignoring its last ");
            Console.printHex(payload % size);
            Console.print(" bytes\n");
        }
        for (int i = 0; i < entryCount; i++) {
            long target = entry(i);
            if (!PhysicalWindow.contains(target, SdtHeader.SIZE)) {
                Console.print("acpi: ");
                Signature.print(signature);
                Console.print(" entry ");
                Console.printHex(i);
                Console.print(" points to ");
                Console.printHex(target);
                Console.print(", ");
                PhysicalWindow.printOutside();
                Console.print("; skipping it\n");
            }
        }
    }

    /** Physical address of the selected root table, or NOT_FOUND before a successful select. */
    public static long address() {
        return root;
    }

    /** Whether the selected root table is the XSDT (else the RSDT). */
    public static boolean isXsdt() {
        return entrySize == 8;
    }

    public static int entryCount() {
        return entryCount;
    }

    /** Physical address stored in entry {@code index} (not yet validated). */
    public static long entry(int index) {
        long at = root + SdtHeader.SIZE + (long) index * entrySize;
        return entrySize == 8 ? PhysicalWindow.u64(at) : PhysicalWindow.u32Unsigned(at);
    }

    /**
     * The first table listed with this signature that passes SdtHeader.isValid, or NOT_FOUND.
     * Listed tables with the signature that fail are reported and passed over.
     */
    public static long findTable(int signature) {
        for (int i = 0; i < entryCount; i++) {
            long table = entry(i);
            if (PhysicalWindow.contains(table, SdtHeader.SIZE) && SdtHeader.signature(table) == signature
                    && SdtHeader.isValid(table, signature)) {
                return table;
            }
        }
        return NOT_FOUND;
    }
}
