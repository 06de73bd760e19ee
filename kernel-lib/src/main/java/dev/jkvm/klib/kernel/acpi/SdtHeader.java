package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.Console;

/**
 * ACPI 6.5 §5.2.6 System Description Table Header, the 36 bytes every table starts with, and the
 * checks every table must pass before any of its fields is believed.
 */
public final class SdtHeader {
    private SdtHeader() {
    }

    public static final int OFFSET_SIGNATURE = 0;
    public static final int OFFSET_LENGTH = 4;
    public static final int OFFSET_REVISION = 8;
    public static final int SIZE = 36;
    /**
     * Upper bound on a believable table length. The largest real tables (DSDTs of big servers)
     * are a few hundred KiB; a length beyond this is a corrupt field, and summing it would read
     * unrelated memory.
     */
    public static final long MAX_LENGTH = 16L << 20;

    public static int signature(long table) {
        return PhysicalWindow.u32(table + OFFSET_SIGNATURE);
    }

    public static long length(long table) {
        return PhysicalWindow.u32Unsigned(table + OFFSET_LENGTH);
    }

    /**
     * Checks location, signature, length bounds and checksum of the table at {@code table};
     * prints one line naming the table and the defect when it fails.
     */
    public static boolean isValid(long table, int expectedSignature) {
        if (!PhysicalWindow.contains(table, SIZE)) {
            report(expectedSignature, table);
            Console.print(" lies ");
            PhysicalWindow.printOutside();
            Console.print("; ignoring it\n");
            return false;
        }
        if (signature(table) != expectedSignature) {
            report(expectedSignature, table);
            Console.print(" has the signature ");
            Signature.print(signature(table));
            Console.print("; ignoring it\n");
            return false;
        }
        long length = length(table);
        if (length < SIZE || length > MAX_LENGTH) {
            report(expectedSignature, table);
            Console.print(" has an impossible length ");
            Console.printHex(length);
            Console.print("; ignoring it\n");
            return false;
        }
        if (!PhysicalWindow.contains(table, length)) {
            report(expectedSignature, table);
            Console.print(" of length ");
            Console.printHex(length);
            Console.print(" runs ");
            PhysicalWindow.printOutside();
            Console.print("; ignoring it\n");
            return false;
        }
        if (!PhysicalWindow.checksumIsZero(table, length)) {
            report(expectedSignature, table);
            Console.print(" has a bad checksum; ignoring it\n");
            return false;
        }
        return true;
    }

    private static void report(int signature, long table) {
        Console.print("acpi: ");
        Signature.print(signature);
        Console.print(" table at ");
        Console.printHex(table);
    }
}
