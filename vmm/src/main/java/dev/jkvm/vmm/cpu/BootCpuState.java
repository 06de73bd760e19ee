package dev.jkvm.vmm.cpu;

import dev.jkvm.vmm.vcpu.Regs;
import dev.jkvm.vmm.vcpu.Segment;
import dev.jkvm.vmm.vcpu.Sregs;

/**
 * The machine state a Multiboot 0.6.96 boot loader hands to the OS (§3.2 "Machine state"):
 * 32-bit protected mode with paging off, CS a flat 4 GiB execute/read segment, DS/ES/FS/GS/SS
 * flat 4 GiB read/write segments, EFLAGS.IF and VM clear, EAX = 0x2BADB002, EBX = the
 * multiboot information structure. GDTR/IDTR are left as they are: the OS must load its own.
 */
public final class BootCpuState {
    private BootCpuState() {}

    /** Multiboot 0.6.96 §3.2: the magic value in EAX that tells the OS a compliant loader ran. */
    public static final long MULTIBOOT_BOOTLOADER_MAGIC = 0x2BAD_B002L;

    /** Selectors a conventional GDT would use for the flat code and data segments. */
    public static final int CODE_SELECTOR = 0x08;
    public static final int DATA_SELECTOR = 0x10;

    /** CR0.PE (bit 0) and CR0.ET (bit 4, hard-wired to 1 since the i486): SDM Vol. 3 §2.5. */
    public static final long CR0_PE = 1L;
    public static final long CR0_ET = 1L << 4;

    /** Segment type 0xB: code, execute/read, accessed; 0x3: data, read/write, accessed (SDM Vol. 3 Table 3-1). */
    private static final int TYPE_CODE_XR_ACCESSED = 0xB;
    private static final int TYPE_DATA_RW_ACCESSED = 0x3;

    public static Segment flatCode() {
        return new Segment(0, 0xFFFF_FFFF, CODE_SELECTOR, TYPE_CODE_XR_ACCESSED, true, 0,
                true, true, false, true, false, false);
    }

    public static Segment flatData() {
        return new Segment(0, 0xFFFF_FFFF, DATA_SELECTOR, TYPE_DATA_RW_ACCESSED, true, 0,
                true, true, false, true, false, false);
    }

    /**
     * The multiboot control registers and segments, keeping from {@code reset} what multiboot
     * leaves undefined (TR, LDTR, GDTR, IDTR, the APIC base and pending interrupts).
     */
    public static Sregs sregs(Sregs reset) {
        Segment data = flatData();
        return new Sregs(flatCode(), data, data, data, data, data, reset.tr(), reset.ldt(),
                reset.gdt(), reset.idt(), CR0_PE | CR0_ET, 0, 0, 0, 0, 0, reset.apicBase(),
                reset.interruptBitmap());
    }

    /** EFLAGS with only the reserved bit 1 set: IF = 0, VM = 0 as §3.2 requires. */
    public static Regs regs(long entry, long multibootInfo) {
        return Regs.of(MULTIBOOT_BOOTLOADER_MAGIC, multibootInfo, 0, entry, 0x2);
    }
}
