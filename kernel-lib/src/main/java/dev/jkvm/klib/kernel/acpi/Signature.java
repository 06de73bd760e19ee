package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.rt.Console;

/**
 * Table signatures as the little-endian int formed by their four ASCII bytes, the way they are
 * read from memory: Signature.of('A', 'P', 'I', 'C') == Signature.MADT.
 */
public final class Signature {
    private Signature() {
    }

    /** ACPI 6.5 §5.2.12 Multiple APIC Description Table. */
    public static final int MADT = ('A') | ('P' << 8) | ('I' << 16) | ('C' << 24);
    /** §5.2.7 Root System Description Table (32-bit entries). */
    public static final int RSDT = ('R') | ('S' << 8) | ('D' << 16) | ('T' << 24);
    /** §5.2.8 Extended System Description Table (64-bit entries). */
    public static final int XSDT = ('X') | ('S' << 8) | ('D' << 16) | ('T' << 24);
    /** §5.2.9 Fixed ACPI Description Table. */
    public static final int FADT = ('F') | ('A' << 8) | ('C' << 16) | ('P' << 24);
    /** §5.2.11.1 Differentiated System Description Table (AML definition block). */
    public static final int DSDT = ('D') | ('S' << 8) | ('D' << 16) | ('T' << 24);
    /** §5.2.16 System Resource Affinity Table. */
    public static final int SRAT = ('S') | ('R' << 8) | ('A' << 16) | ('T' << 24);
    /** IA-PC HPET specification, table "HPET". */
    public static final int HPET = ('H') | ('P' << 8) | ('E' << 16) | ('T' << 24);

    public static int of(char first, char second, char third, char fourth) {
        return (first & 0xFF) | ((second & 0xFF) << 8) | ((third & 0xFF) << 16) | ((fourth & 0xFF) << 24);
    }

    /**
     * Prints the signature's four characters. Console.print takes only literals, so each
     * character goes through its own literal; bytes outside [A-Z0-9 _] print as '?'.
     */
    public static void print(int signature) {
        for (int shift = 0; shift < 32; shift += 8) {
            printCharacter((signature >>> shift) & 0xFF);
        }
    }

    private static void printCharacter(int c) {
        switch (c) {
            case 'A' -> Console.print("A");
            case 'B' -> Console.print("B");
            case 'C' -> Console.print("C");
            case 'D' -> Console.print("D");
            case 'E' -> Console.print("E");
            case 'F' -> Console.print("F");
            case 'G' -> Console.print("G");
            case 'H' -> Console.print("H");
            case 'I' -> Console.print("I");
            case 'J' -> Console.print("J");
            case 'K' -> Console.print("K");
            case 'L' -> Console.print("L");
            case 'M' -> Console.print("M");
            case 'N' -> Console.print("N");
            case 'O' -> Console.print("O");
            case 'P' -> Console.print("P");
            case 'Q' -> Console.print("Q");
            case 'R' -> Console.print("R");
            case 'S' -> Console.print("S");
            case 'T' -> Console.print("T");
            case 'U' -> Console.print("U");
            case 'V' -> Console.print("V");
            case 'W' -> Console.print("W");
            case 'X' -> Console.print("X");
            case 'Y' -> Console.print("Y");
            case 'Z' -> Console.print("Z");
            case '0' -> Console.print("0");
            case '1' -> Console.print("1");
            case '2' -> Console.print("2");
            case '3' -> Console.print("3");
            case '4' -> Console.print("4");
            case '5' -> Console.print("5");
            case '6' -> Console.print("6");
            case '7' -> Console.print("7");
            case '8' -> Console.print("8");
            case '9' -> Console.print("9");
            case ' ' -> Console.print(" ");
            case '_' -> Console.print("_");
            default -> Console.print("?");
        }
    }
}
