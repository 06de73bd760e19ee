package dev.jkvm.klib.kernel.acpi;

/**
 * ACPI 6.5 §5.2.3.2 Generic Address Structure: the 12-byte register pointer the FADT uses for
 * its extended (X_) blocks and the hardware-reduced sleep registers. Only the two address
 * spaces fixed ACPI hardware lives in are supported; a register elsewhere (PCI configuration
 * space, embedded controller, ...) counts as absent.
 */
public final class GenericAddress {
    private GenericAddress() {
    }

    public static final int SIZE = 12;
    static final int OFFSET_SPACE_ID = 0;
    static final int OFFSET_BIT_WIDTH = 1;
    static final int OFFSET_BIT_OFFSET = 2;
    static final int OFFSET_ADDRESS = 4;

    /** §5.2.3.2 Table 5.1 address space IDs. */
    public static final int SPACE_MEMORY = 0;
    public static final int SPACE_IO = 1;
    /** Not an ACPI value: marks a register the tables do not provide. */
    public static final int SPACE_NONE = -1;

    /** x86 port numbers are 16 bits wide (Intel SDM Vol. 1 §19.2). */
    public static final long IO_PORT_LIMIT = 0xFFFF;
    /**
     * The kernel identity-maps physical memory up to 4 GiB at least (mm.PageTables), so a
     * memory-space register below that can be written at its physical address.
     */
    public static final long MEMORY_LIMIT = 0xFFFFFFFFL;

    public static int spaceId(long gas) {
        return PhysicalWindow.u8(gas + OFFSET_SPACE_ID);
    }

    public static int bitOffset(long gas) {
        return PhysicalWindow.u8(gas + OFFSET_BIT_OFFSET);
    }

    public static long address(long gas) {
        return PhysicalWindow.u64(gas + OFFSET_ADDRESS);
    }

    /**
     * The space of the register this structure describes, or SPACE_NONE when it describes none
     * the kernel can reach: address zero (§5.2.9: an unused block), another address space, a
     * register that does not start at bit 0, or an address beyond the port or identity-mapped range.
     */
    public static int usableSpace(long gas) {
        int space = spaceId(gas);
        long address = address(gas);
        // Compared as signed: an address with bit 63 set is no x86 address and fails "> 0".
        if (address <= 0 || bitOffset(gas) != 0) {
            return SPACE_NONE;
        }
        if (space == SPACE_IO && address <= IO_PORT_LIMIT) {
            return SPACE_IO;
        }
        if (space == SPACE_MEMORY && address <= MEMORY_LIMIT) {
            return SPACE_MEMORY;
        }
        return SPACE_NONE;
    }
}
