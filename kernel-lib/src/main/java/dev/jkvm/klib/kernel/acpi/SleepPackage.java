package dev.jkvm.klib.kernel.acpi;

/**
 * Finds a sleep-state object (ACPI 6.5 §7.4.2, e.g. \_S5) in a definition block's AML without
 * an AML interpreter: a byte scan for its declaration and a decoder for the two values it
 * gives, the SLP_TYP of the PM1a and of the PM1b control register.
 *
 * The shape matched is the one firmware emits for these objects: DefName (§20.2.5.1: NameOp
 * 0x08, a NameString of the name, optionally with the root prefix '\') whose data object is a
 * DefPackage (§20.2.5.4: PackageOp 0x12, PkgLength §20.2.4, NumElements) with integer constants
 * as elements (§20.2.3: ZeroOp, OneOp, or Byte/Word/DWord/QWord prefix and value). A package
 * with a single element is the ACPI 1.0 form with SLP_TYPa in its low byte and SLP_TYPb in the
 * next. An object declared under a computed condition or built by a method is out of reach.
 *
 * The scan reads only inside the table, steps one byte at a time and so ends after at most its
 * length in steps; every decoded length is checked against the table's end before use.
 */
public final class SleepPackage {
    private SleepPackage() {
    }

    /** Outcomes of find. */
    public static final int FOUND = 0;
    /** No declaration of the name as a package. */
    public static final int NOT_FOUND = 1;
    /** The declaration is there but its package cannot be decoded, or a value is not a 3-bit SLP_TYP. */
    public static final int MALFORMED = 2;

    /** The \_S5 name segment as the little-endian int of its four bytes. */
    public static final int S5 = ('_') | ('S' << 8) | ('5' << 16) | ('_' << 24);

    static final int NAME_OP = 0x08;
    static final int ROOT_CHAR = 0x5C;
    static final int PACKAGE_OP = 0x12;
    static final int ZERO_OP = 0x00;
    static final int ONE_OP = 0x01;
    static final int BYTE_PREFIX = 0x0A;
    static final int WORD_PREFIX = 0x0B;
    static final int DWORD_PREFIX = 0x0C;
    static final int QWORD_PREFIX = 0x0E;
    /** §4.8.3.2.1: SLP_TYP is a 3-bit field. */
    static final long MAX_SLEEP_TYPE = 7;

    private static int typeA;
    private static int typeB;
    private static long declaration;
    /** Where the integer decoder reads next. */
    private static long cursor;

    /**
     * Scans the AML of the definition block at {@code table} (a DSDT or SSDT that passed
     * SdtHeader.isValid) for the package named {@code name}; FOUND, NOT_FOUND or MALFORMED.
     */
    public static int find(long table, int name) {
        typeA = 0;
        typeB = 0;
        declaration = 0;
        long start = table + SdtHeader.SIZE;
        long end = table + SdtHeader.length(table);
        int first = name & 0xFF;
        for (long at = start + 1; at + 5 <= end; at++) {
            if (PhysicalWindow.u8(at) != first || PhysicalWindow.u32(at) != name
                    || PhysicalWindow.u8(at + 4) != PACKAGE_OP) {
                continue;
            }
            int before = PhysicalWindow.u8(at - 1);
            boolean named = before == NAME_OP
                    || (before == ROOT_CHAR && at - 2 >= start && PhysicalWindow.u8(at - 2) == NAME_OP);
            if (named) {
                declaration = at;
                return decodePackage(at + 5, end);
            }
        }
        return NOT_FOUND;
    }

    /** Decodes the DefPackage whose PkgLength starts at {@code pkgLength}. */
    private static int decodePackage(long pkgLength, long tableEnd) {
        if (pkgLength >= tableEnd) {
            return MALFORMED;
        }
        int lead = PhysicalWindow.u8(pkgLength);
        int following = lead >>> 6;
        long length;
        if (following == 0) {
            length = lead & 0x3F;
        } else {
            // §20.2.4: with following bytes, bits 4-5 of the lead byte are reserved and zero.
            if ((lead & 0x30) != 0 || pkgLength + following >= tableEnd) {
                return MALFORMED;
            }
            length = lead & 0x0F;
            for (int i = 1; i <= following; i++) {
                length |= (long) PhysicalWindow.u8(pkgLength + i) << (4 + 8 * (i - 1));
            }
        }
        long packageEnd = pkgLength + length;
        if (length < following + 2 || packageEnd > tableEnd) {
            return MALFORMED;
        }
        int elements = PhysicalWindow.u8(pkgLength + following + 1);
        cursor = pkgLength + following + 2;
        long first = integer(packageEnd);
        long a;
        long b;
        if (elements == 0 || first < 0) {
            return MALFORMED;
        }
        if (elements == 1) {
            if (first > 0xFFFF) {
                return MALFORMED;
            }
            a = first & 0xFF;
            b = first >>> 8;
        } else {
            a = first;
            b = integer(packageEnd);
        }
        if (a < 0 || a > MAX_SLEEP_TYPE || b < 0 || b > MAX_SLEEP_TYPE) {
            return MALFORMED;
        }
        typeA = (int) a;
        typeB = (int) b;
        return FOUND;
    }

    /** The integer constant at the cursor, moving past it; -1 when there is none before {@code limit}. */
    private static long integer(long limit) {
        if (cursor >= limit) {
            return -1;
        }
        int op = PhysicalWindow.u8(cursor);
        int size;
        if (op == ZERO_OP || op == ONE_OP) {
            cursor++;
            return op;
        } else if (op == BYTE_PREFIX) {
            size = 1;
        } else if (op == WORD_PREFIX) {
            size = 2;
        } else if (op == DWORD_PREFIX) {
            size = 4;
        } else if (op == QWORD_PREFIX) {
            size = 8;
        } else {
            return -1;
        }
        if (limit - cursor - 1 < size) {
            return -1;
        }
        long value = 0;
        for (int i = size; i >= 1; i--) {
            value = (value << 8) | PhysicalWindow.u8(cursor + i);
        }
        cursor += 1 + size;
        // A QWord with bit 63 set reads as negative here; no SLP_TYP is that large anyway.
        return value;
    }

    /** SLP_TYP for the PM1a control register (or the sleep control register) from the last FOUND. */
    public static int typeA() {
        return typeA;
    }

    /** SLP_TYP for the PM1b control register from the last FOUND. */
    public static int typeB() {
        return typeB;
    }

    /** Physical address of the name in the declaration the last find decoded, or 0. */
    public static long declaration() {
        return declaration;
    }
}
