package dev.jkvm.klib.kernel.apic;

import dev.jkvm.klib.rt.Port;

/**
 * The two 8259A PICs of the PC, taken out of the way before interrupts are enabled: the BIOS
 * leaves the master at vector 8 (the real-mode layout), where IRQ0 from the PIT would look
 * exactly like a double fault and IRQ5 like #NP. The initialisation sequence ICW1-ICW4 (Intel
 * 8259A data sheet; the PC's master at ports 0x20/0x21 with its slave on IR2, slave at
 * 0xA0/0xA1) moves them to vectors 0x20-0x2F, which the kernel leaves to no one else, and OCW1 then
 * masks every input: the kernel takes its interrupts through the local APIC only. On machines
 * without 8259s (microvm with pic=off) the writes go nowhere.
 */
public final class LegacyPic {
    private LegacyPic() {
    }

    private static final int MASTER_COMMAND = 0x20;
    private static final int MASTER_DATA = 0x21;
    private static final int SLAVE_COMMAND = 0xA0;
    private static final int SLAVE_DATA = 0xA1;
    /** ICW1: initialisation, edge triggered, cascaded, ICW4 follows. */
    private static final int ICW1_INIT_WITH_ICW4 = 0x11;
    public static final int MASTER_VECTOR = 0x20;
    public static final int SLAVE_VECTOR = 0x28;
    /** ICW3: the slave hangs on the master's IR2; the slave's cascade identity is 2. */
    private static final int ICW3_MASTER = 1 << 2;
    private static final int ICW3_SLAVE = 2;
    /** ICW4: 8086 mode, normal EOI. */
    private static final int ICW4_8086 = 0x01;
    private static final int ALL_MASKED = 0xFF;

    /** Remaps both PICs to MASTER_VECTOR and SLAVE_VECTOR and masks all sixteen inputs. */
    public static void remapAndMask() {
        Port.out8(MASTER_DATA, ALL_MASKED);
        Port.out8(SLAVE_DATA, ALL_MASKED);
        Port.out8(MASTER_COMMAND, ICW1_INIT_WITH_ICW4);
        Port.out8(SLAVE_COMMAND, ICW1_INIT_WITH_ICW4);
        Port.out8(MASTER_DATA, MASTER_VECTOR);
        Port.out8(SLAVE_DATA, SLAVE_VECTOR);
        Port.out8(MASTER_DATA, ICW3_MASTER);
        Port.out8(SLAVE_DATA, ICW3_SLAVE);
        Port.out8(MASTER_DATA, ICW4_8086);
        Port.out8(SLAVE_DATA, ICW4_8086);
        Port.out8(MASTER_DATA, ALL_MASKED);
        Port.out8(SLAVE_DATA, ALL_MASKED);
    }
}
