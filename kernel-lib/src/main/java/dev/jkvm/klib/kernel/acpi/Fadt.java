package dev.jkvm.klib.kernel.acpi;

/**
 * ACPI 6.5 §5.2.9 Fixed ACPI Description Table ("FACP"): the fields soft-off needs — where the
 * DSDT is, which PM1 control registers exist, whether the platform is hardware-reduced and then
 * where its sleep control register is, and how to switch the hardware into ACPI mode.
 *
 * The FADT grew with every ACPI revision by appending fields, so a field counts only when the
 * table's length covers it (an ACPI 1.0 FADT is 116 bytes and has no 64-bit fields). Where
 * both exist, a usable extended (X_) field wins over its 32-bit twin, as §5.2.9 asks of OSPM.
 * The table itself must already have passed SdtHeader.isValid.
 */
public final class Fadt {
    private Fadt() {
    }

    static final int OFFSET_DSDT = 40;
    static final int OFFSET_SMI_CMD = 48;
    static final int OFFSET_ACPI_ENABLE = 52;
    static final int OFFSET_PM1A_CNT_BLK = 64;
    static final int OFFSET_PM1B_CNT_BLK = 68;
    static final int OFFSET_FLAGS = 112;
    static final int OFFSET_X_DSDT = 140;
    static final int OFFSET_X_PM1A_CNT_BLK = 172;
    static final int OFFSET_X_PM1B_CNT_BLK = 184;
    static final int OFFSET_SLEEP_CONTROL_REG = 244;

    /** The ACPI 1.0 FADT ends after Flags: every field below is present from this length on. */
    public static final long MINIMUM_LENGTH = 116;

    /** §5.2.9 Table 5.10 fixed feature flag bit 20: no fixed ACPI hardware (§4.1). */
    public static final int FLAG_HW_REDUCED_ACPI = 1 << 20;

    private static long dsdt;
    private static int flags;
    private static long smiCommand;
    private static int acpiEnable;
    private static int pm1aSpace = GenericAddress.SPACE_NONE;
    private static long pm1aAddress;
    private static int pm1bSpace = GenericAddress.SPACE_NONE;
    private static long pm1bAddress;
    private static int sleepControlSpace = GenericAddress.SPACE_NONE;
    private static long sleepControlAddress;
    /** chooseControlBlock's result (compiled kernel code has no objects to return a pair in). */
    private static int chosenSpace;
    private static long chosenAddress;

    /**
     * Reads the FADT at physical address {@code fadt}; false, with nothing recorded, when it is
     * shorter than an ACPI 1.0 FADT.
     */
    public static boolean parse(long fadt) {
        dsdt = 0;
        pm1aSpace = GenericAddress.SPACE_NONE;
        pm1bSpace = GenericAddress.SPACE_NONE;
        sleepControlSpace = GenericAddress.SPACE_NONE;
        long length = SdtHeader.length(fadt);
        if (length < MINIMUM_LENGTH) {
            return false;
        }
        flags = PhysicalWindow.u32(fadt + OFFSET_FLAGS);
        smiCommand = PhysicalWindow.u32Unsigned(fadt + OFFSET_SMI_CMD);
        acpiEnable = PhysicalWindow.u8(fadt + OFFSET_ACPI_ENABLE);
        if (covers(length, OFFSET_X_DSDT, 8) && PhysicalWindow.u64(fadt + OFFSET_X_DSDT) != 0) {
            dsdt = PhysicalWindow.u64(fadt + OFFSET_X_DSDT);
        } else {
            dsdt = PhysicalWindow.u32Unsigned(fadt + OFFSET_DSDT);
        }

        chooseControlBlock(fadt, length, OFFSET_X_PM1A_CNT_BLK, OFFSET_PM1A_CNT_BLK);
        pm1aSpace = chosenSpace;
        pm1aAddress = chosenAddress;
        chooseControlBlock(fadt, length, OFFSET_X_PM1B_CNT_BLK, OFFSET_PM1B_CNT_BLK);
        pm1bSpace = chosenSpace;
        pm1bAddress = chosenAddress;

        long gas = fadt + OFFSET_SLEEP_CONTROL_REG;
        if (covers(length, OFFSET_SLEEP_CONTROL_REG, GenericAddress.SIZE)) {
            sleepControlSpace = GenericAddress.usableSpace(gas);
            sleepControlAddress = GenericAddress.address(gas);
        }
        return true;
    }

    /**
     * Sets chosenSpace/chosenAddress to a PM1 control block: the extended GAS at {@code extended}
     * when the table has it and it is usable, else the 32-bit I/O port at {@code legacy}, else none.
     */
    private static void chooseControlBlock(long fadt, long length, int extended, int legacy) {
        long gas = fadt + extended;
        if (covers(length, extended, GenericAddress.SIZE) && GenericAddress.usableSpace(gas) != GenericAddress.SPACE_NONE) {
            chosenSpace = GenericAddress.usableSpace(gas);
            chosenAddress = GenericAddress.address(gas);
            return;
        }
        long port = PhysicalWindow.u32Unsigned(fadt + legacy);
        if (port != 0 && port <= GenericAddress.IO_PORT_LIMIT) {
            chosenSpace = GenericAddress.SPACE_IO;
            chosenAddress = port;
            return;
        }
        chosenSpace = GenericAddress.SPACE_NONE;
        chosenAddress = 0;
    }

    private static boolean covers(long length, int offset, int size) {
        return length >= offset + size;
    }

    /** Physical address of the DSDT (X_DSDT when set, else DSDT); 0 when the FADT names none. */
    public static long dsdt() {
        return dsdt;
    }

    public static int flags() {
        return flags;
    }

    /** §4.1: no PM1 blocks; sleep goes through the sleep control register (§4.8.3.7). */
    public static boolean isHardwareReduced() {
        return (flags & FLAG_HW_REDUCED_ACPI) != 0;
    }

    /** SMI_CMD: the port that takes ACPI_ENABLE; 0 when the hardware is always in ACPI mode. */
    public static long smiCommand() {
        return smiCommand;
    }

    public static int acpiEnable() {
        return acpiEnable;
    }

    /** GenericAddress.SPACE_IO, SPACE_MEMORY, or SPACE_NONE when there is no PM1a control register. */
    public static int pm1aControlSpace() {
        return pm1aSpace;
    }

    public static long pm1aControlAddress() {
        return pm1aAddress;
    }

    /** Space of the optional second PM1 control register (§4.8.3.2: the a and b blocks are written together). */
    public static int pm1bControlSpace() {
        return pm1bSpace;
    }

    public static long pm1bControlAddress() {
        return pm1bAddress;
    }

    public static int sleepControlSpace() {
        return sleepControlSpace;
    }

    public static long sleepControlAddress() {
        return sleepControlAddress;
    }
}
