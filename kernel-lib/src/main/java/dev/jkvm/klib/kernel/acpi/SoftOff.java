package dev.jkvm.klib.kernel.acpi;

import dev.jkvm.klib.kernel.time.Delay;
import dev.jkvm.klib.rt.Console;
import dev.jkvm.klib.rt.Cpu;
import dev.jkvm.klib.rt.Memory;
import dev.jkvm.klib.rt.Port;

/**
 * ACPI S5 soft-off (ACPI 6.5 §7.4.2 \_Sx objects, §16.1 sleeping states): the SLP_TYP values come
 * from the DSDT's \_S5 package, and OSPM writes them with SLP_EN into the PM1 control registers
 * (§4.8.3.2.1: SLP_TYP bits 10-12, SLP_EN bit 13), or on a hardware-reduced platform into the
 * sleep control register (§4.8.3.7: SLP_TYP bits 2-4, SLP_EN bit 5).
 *
 * prepare() reads the tables while the boot identity map still covers them (run it after
 * Acpi.discover); powerOff() only writes registers. Either way the caller keeps a fallback:
 * when no path exists, or the machine still runs after the request, powerOff returns.
 * The self-test image (selftest.SelfTestSuite) does not power off: its isa-debug-exit value is
 * its result, which a status of 0 could not carry.
 */
public final class SoftOff {
    private SoftOff() {
    }

    /** Paths prepare() can choose. */
    public static final int UNAVAILABLE = 0;
    public static final int PM1_CONTROL = 1;
    public static final int SLEEP_CONTROL = 2;

    /** Why the path is UNAVAILABLE. */
    public static final int REASON_NONE = 0;
    public static final int REASON_NO_FADT = 1;
    public static final int REASON_FADT_TOO_SHORT = 2;
    public static final int REASON_NO_PM1A_CONTROL = 3;
    public static final int REASON_NO_SLEEP_CONTROL = 4;
    public static final int REASON_NO_DSDT = 5;
    public static final int REASON_NO_S5 = 6;
    public static final int REASON_BAD_S5 = 7;

    /** §4.8.3.2.1 PM1 control register bits. */
    static final int SCI_EN = 1;
    static final int SLP_TYP_SHIFT = 10;
    static final int SLP_TYP_MASK = 7 << SLP_TYP_SHIFT;
    static final int SLP_EN = 1 << 13;
    /** §4.8.3.7 sleep control register bits. */
    static final int SLEEP_CONTROL_TYP_SHIFT = 2;
    static final int SLEEP_CONTROL_SLP_EN = 1 << 5;

    /**
     * How long the firmware may take to hand the PM registers to OSPM after ACPI_ENABLE (§5.2.9
     * SMI_CMD): the SMI handler runs synchronously on real boards, so this only bounds a broken one.
     */
    static final long ACPI_ENABLE_WAIT_MICROS = 300_000;
    /**
     * How long the machine may keep running after the S5 request before the caller falls back.
     * A VMM acts on the write at once or on its next main-loop turn (QEMU stops its vCPUs
     * asynchronously), and a debug-exit write in between would win: so the wait is generous.
     */
    static final long STOP_WAIT_MICROS = 1_000_000;

    private static int path = UNAVAILABLE;
    private static int reason = REASON_NO_FADT;

    /**
     * Chooses the soft-off path from the tables Acpi.discover selected: the FADT, the DSDT it
     * names and the \_S5 package in it. Defective tables are reported by the usual "acpi: ..."
     * lines; returns the path (also kept for powerOff).
     */
    public static int prepare() {
        path = UNAVAILABLE;
        long fadt = Acpi.findTable(Signature.FADT);
        if (fadt == Acpi.NOT_FOUND) {
            return unavailable(REASON_NO_FADT);
        }
        if (!Fadt.parse(fadt)) {
            return unavailable(REASON_FADT_TOO_SHORT);
        }
        int chosen;
        if (Fadt.isHardwareReduced()) {
            if (Fadt.sleepControlSpace() == GenericAddress.SPACE_NONE) {
                return unavailable(REASON_NO_SLEEP_CONTROL);
            }
            chosen = SLEEP_CONTROL;
        } else {
            if (Fadt.pm1aControlSpace() == GenericAddress.SPACE_NONE) {
                return unavailable(REASON_NO_PM1A_CONTROL);
            }
            chosen = PM1_CONTROL;
        }
        long dsdt = Fadt.dsdt();
        if (dsdt == 0 || !SdtHeader.isValid(dsdt, Signature.DSDT)) {
            return unavailable(REASON_NO_DSDT);
        }
        int found = SleepPackage.find(dsdt, SleepPackage.S5);
        if (found == SleepPackage.NOT_FOUND) {
            return unavailable(REASON_NO_S5);
        }
        if (found != SleepPackage.FOUND) {
            return unavailable(REASON_BAD_S5);
        }
        path = chosen;
        reason = REASON_NONE;
        return path;
    }

    private static int unavailable(int why) {
        path = UNAVAILABLE;
        reason = why;
        return UNAVAILABLE;
    }

    public static int path() {
        return path;
    }

    public static int reason() {
        return reason;
    }

    /**
     * Prints one "power: ..." line naming the path, requests S5 through it and waits for the
     * machine to stop. Returns when there is no path or the machine still runs after
     * STOP_WAIT_MICROS (with a second line saying so): the caller then ends the run its own way.
     */
    public static void powerOff() {
        printPath();
        if (path == UNAVAILABLE) {
            return;
        }
        request();
        long deadline = Delay.deadline(STOP_WAIT_MICROS);
        while (!Delay.passed(deadline)) {
            Cpu.pause();
        }
        Console.print("power: the machine still runs 1 s after the S5 request; falling back to isa-debug-exit\n");
    }

    /** Writes the S5 request through the prepared path (nothing for UNAVAILABLE). */
    public static void request() {
        if (path == SLEEP_CONTROL) {
            int value = (SleepPackage.typeA() << SLEEP_CONTROL_TYP_SHIFT) | SLEEP_CONTROL_SLP_EN;
            if (Fadt.sleepControlSpace() == GenericAddress.SPACE_IO) {
                Port.out8((int) Fadt.sleepControlAddress(), value);
            } else {
                Memory.store8(Fadt.sleepControlAddress(), (byte) value);
            }
            return;
        }
        if (path != PM1_CONTROL) {
            return;
        }
        enterAcpiMode();
        // SLP_TYP first, then SLP_EN with it: a chipset may latch the type before the enable,
        // and the a and b registers together make up one logical register (§4.8.3.2).
        int a = (readControl(Fadt.pm1aControlSpace(), Fadt.pm1aControlAddress()) & ~(SLP_TYP_MASK | SLP_EN))
                | (SleepPackage.typeA() << SLP_TYP_SHIFT);
        int b = 0;
        boolean hasB = Fadt.pm1bControlSpace() != GenericAddress.SPACE_NONE;
        if (hasB) {
            b = (readControl(Fadt.pm1bControlSpace(), Fadt.pm1bControlAddress()) & ~(SLP_TYP_MASK | SLP_EN))
                    | (SleepPackage.typeB() << SLP_TYP_SHIFT);
        }
        writeControl(Fadt.pm1aControlSpace(), Fadt.pm1aControlAddress(), a);
        if (hasB) {
            writeControl(Fadt.pm1bControlSpace(), Fadt.pm1bControlAddress(), b);
        }
        writeControl(Fadt.pm1aControlSpace(), Fadt.pm1aControlAddress(), a | SLP_EN);
        if (hasB) {
            writeControl(Fadt.pm1bControlSpace(), Fadt.pm1bControlAddress(), b | SLP_EN);
        }
    }

    /**
     * §5.2.9 SMI_CMD / ACPI_ENABLE: while SCI_EN is clear the PM registers belong to the firmware;
     * writing ACPI_ENABLE to SMI_CMD asks it to hand them over, and SCI_EN says when it has.
     * A platform with SMI_CMD zero is always in ACPI mode.
     */
    private static void enterAcpiMode() {
        if (Fadt.smiCommand() == 0 || Fadt.smiCommand() > GenericAddress.IO_PORT_LIMIT || Fadt.acpiEnable() == 0
                || (readControl(Fadt.pm1aControlSpace(), Fadt.pm1aControlAddress()) & SCI_EN) != 0) {
            return;
        }
        Port.out8((int) Fadt.smiCommand(), Fadt.acpiEnable());
        long deadline = Delay.deadline(ACPI_ENABLE_WAIT_MICROS);
        while ((readControl(Fadt.pm1aControlSpace(), Fadt.pm1aControlAddress()) & SCI_EN) == 0 && !Delay.passed(deadline)) {
            Cpu.pause();
        }
    }

    private static int readControl(int space, long address) {
        if (space == GenericAddress.SPACE_IO) {
            return Port.in16((int) address);
        }
        return Memory.load16(address) & 0xFFFF;
    }

    private static void writeControl(int space, long address, int value) {
        if (space == GenericAddress.SPACE_IO) {
            Port.out16((int) address, value);
        } else {
            Memory.store16(address, (short) value);
        }
    }

    /** The one line saying which way the run ends. */
    private static void printPath() {
        if (path == PM1_CONTROL) {
            Console.print("power: ACPI S5 soft-off through PM1a_CNT at ");
            printRegister(Fadt.pm1aControlSpace(), Fadt.pm1aControlAddress());
            if (Fadt.pm1bControlSpace() != GenericAddress.SPACE_NONE) {
                Console.print(" and PM1b_CNT at ");
                printRegister(Fadt.pm1bControlSpace(), Fadt.pm1bControlAddress());
            }
        } else if (path == SLEEP_CONTROL) {
            Console.print("power: ACPI S5 soft-off through the sleep control register at ");
            printRegister(Fadt.sleepControlSpace(), Fadt.sleepControlAddress());
        } else {
            Console.print("power: no ACPI S5 soft-off (");
            printReason();
            Console.print("); exiting through isa-debug-exit\n");
            return;
        }
        Console.print(", SLP_TYP ");
        printDigit(SleepPackage.typeA());
        Console.print("\n");
    }

    private static void printRegister(int space, long address) {
        if (space == GenericAddress.SPACE_IO) {
            Console.print("I/O port ");
        } else {
            Console.print("memory ");
        }
        Console.printHex(address);
    }

    private static void printReason() {
        switch (reason) {
            case REASON_NO_FADT -> Console.print("no valid FADT");
            case REASON_FADT_TOO_SHORT -> Console.print("FADT shorter than ACPI 1.0's 116 bytes");
            case REASON_NO_PM1A_CONTROL -> Console.print("FADT has no usable PM1a control block");
            case REASON_NO_SLEEP_CONTROL -> Console.print("hardware-reduced FADT has no usable sleep control register");
            case REASON_NO_DSDT -> Console.print("no valid DSDT");
            case REASON_NO_S5 -> Console.print("DSDT declares no \\_S5 package");
            case REASON_BAD_S5 -> Console.print("DSDT's \\_S5 package is malformed");
            default -> Console.print("not prepared");
        }
    }

    /** SLP_TYP is 0-7 (SleepPackage checks it). */
    private static void printDigit(int value) {
        switch (value) {
            case 0 -> Console.print("0");
            case 1 -> Console.print("1");
            case 2 -> Console.print("2");
            case 3 -> Console.print("3");
            case 4 -> Console.print("4");
            case 5 -> Console.print("5");
            case 6 -> Console.print("6");
            default -> Console.print("7");
        }
    }
}
