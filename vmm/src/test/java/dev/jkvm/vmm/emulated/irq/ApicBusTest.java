package dev.jkvm.vmm.emulated.irq;

import static dev.jkvm.vmm.emulated.irq.LocalApic.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.emulated.cpu.CpuEvents;
import org.junit.jupiter.api.Test;

/** IPI routing between LAPICs: destinations, shorthands, delivery modes, INIT and SIPI. */
class ApicBusTest {
    private static final int CPUS = 8;
    private final FakeClock clock = new FakeClock();
    private final ApicBus bus = new ApicBus(clock);
    private final CpuEvents[] events = new CpuEvents[CPUS];
    private final LocalApic[] apics = new LocalApic[CPUS];

    ApicBusTest() {
        for (int i = 0; i < CPUS; i++) {
            events[i] = new CpuEvents();
            apics[i] = bus.add(i, i == 0, events[i]);
            apics[i].mmioWrite(REG_SVR, 4, 0x1FF);
        }
    }

    private void icr(int from, int dest, int low) {
        apics[from].mmioWrite(REG_ICR_HIGH, 4, (dest & 0xFFL) << 24);
        apics[from].mmioWrite(REG_ICR_LOW, 4, low & 0xFFFF_FFFFL);
    }

    /** Bit i set when CPU i has {@code vector} in its IRR; clears IRRs by re-reset for the next check. */
    private int receivers(int vector) {
        int mask = 0;
        for (int i = 0; i < CPUS; i++) if (apics[i].inIrr(vector)) mask |= 1 << i;
        return mask;
    }

    private static final int LOGICAL = 1 << 11;

    @Test
    void physicalUnicastAndBroadcast() {
        icr(0, 5, 0x41);
        assertEquals(1 << 5, receivers(0x41));
        icr(3, 0xFF, 0x42);
        assertEquals(0xFF, receivers(0x42));
        icr(3, 9, 0x43);
        assertEquals(0, receivers(0x43), "no APIC with ID 9");
    }

    @Test
    void shorthands() {
        icr(2, 0, (ApicMessage.SELF << 18) | 0x50);
        assertEquals(1 << 2, receivers(0x50));
        icr(2, 0, (ApicMessage.ALL_INCLUDING_SELF << 18) | 0x51);
        assertEquals(0xFF, receivers(0x51));
        icr(2, 0, (ApicMessage.ALL_EXCLUDING_SELF << 18) | 0x52);
        assertEquals(0xFF & ~(1 << 2), receivers(0x52));
    }

    @Test
    void logicalFlatModel() {
        for (int i = 0; i < CPUS; i++) apics[i].mmioWrite(REG_LDR, 4, (1L << i) << 24);
        icr(0, 0b1010_0100, LOGICAL | 0x60);
        assertEquals(0b1010_0100, receivers(0x60));
        icr(0, 0xFF, LOGICAL | 0x61);
        assertEquals(0xFF, receivers(0x61), "0xFF is the logical broadcast");
    }

    @Test
    void logicalClusterModel() {
        for (int i = 0; i < CPUS; i++) {
            apics[i].mmioWrite(REG_DFR, 4, 0x0FFF_FFFFL);  // cluster model
            int cluster = i / 4, member = 1 << (i % 4);
            apics[i].mmioWrite(REG_LDR, 4, (long) ((cluster << 4) | member) << 24);
        }
        assertEquals(0x0FFF_FFFF, (int) apics[0].mmioRead(REG_DFR, 4));
        icr(0, 0x13, LOGICAL | 0x70);      // cluster 1, members 0 and 1: CPUs 4 and 5
        assertEquals(0b0011_0000, receivers(0x70));
        icr(0, 0x0C, LOGICAL | 0x71);      // cluster 0, members 2 and 3
        assertEquals(0b0000_1100, receivers(0x71));
    }

    @Test
    void x2apicPhysicalAndClusterDestinations() {
        CpuEvents e = new CpuEvents();
        LocalApic big = bus.add(300, false, e);
        for (int i = 0; i < CPUS; i++) x2apic(apics[i]);
        x2apic(big);
        // Physical: the 32-bit x2APIC ID.
        assertTrue(apics[0].writeMsr(0x830, (300L << 32) | 0x44));
        assertTrue(big.inIrr(0x44));
        // Cluster: ID 300 = cluster 18, bit 12; IDs 0..7 = cluster 0, bits 0..7.
        assertTrue(apics[0].writeMsr(0x830, (0x0000_0006L << 32) | LOGICAL | 0x45));
        assertEquals(0b110, receivers(0x45));
        assertTrue(apics[0].writeMsr(0x830, (((18L << 16) | (1 << 12)) << 32) | LOGICAL | 0x46));
        assertTrue(big.inIrr(0x46));
        assertEquals(0, receivers(0x46));
        assertTrue(apics[1].writeMsr(0x830, (0xFFFF_FFFFL << 32) | 0x47));
        assertEquals(0xFF, receivers(0x47));
        assertTrue(big.inIrr(0x47), "0xFFFFFFFF is the x2APIC broadcast");
    }

    /**
     * An x2APIC BSP starts an AP whose ID is above 255 while that AP is still in xAPIC mode (its
     * own code switches it later): KVM matches such a destination by the x2APIC ID, and so must we
     * (kvm_apic_match_physical_addr); a destination an 8-bit ID can encode still needs the xAPIC ID.
     */
    @Test
    void x2apicSenderReachesAnXapicModeApWhoseIdNeedsMoreThan8Bits() {
        CpuEvents e = new CpuEvents();
        LocalApic big = bus.add(256, false, e);
        big.mmioWrite(REG_SVR, 4, 0x1FF);
        x2apic(apics[0]);
        for (CpuEvents other : events) other.take(-1);
        e.take(-1);
        assertTrue(apics[0].writeMsr(0x830, (256L << 32) | (ApicMessage.INIT << 8) | (1 << 14)));
        assertEquals(CpuEvents.INIT, e.take(-1));
        assertTrue(apics[0].writeMsr(0x830, (256L << 32) | (ApicMessage.STARTUP << 8) | (1 << 14) | 0x08));
        assertEquals(CpuEvents.SIPI, e.take(-1));
        assertTrue(apics[0].writeMsr(0x830, (3L << 32) | (ApicMessage.INIT << 8) | (1 << 14)));
        assertEquals(CpuEvents.INIT, events[3].take(-1), "ID 3 in xAPIC mode, by its xAPIC ID");
        assertEquals(0, e.take(-1));
    }

    private static void x2apic(LocalApic a) {
        assertTrue(a.setApicBase(DEFAULT_BASE | BASE_EN | BASE_EXTD | (a.isBsp() ? BASE_BSP : 0)));
        assertTrue(a.writeMsr(0x80F, 0x1FF));
    }

    @Test
    void lowestPriorityGoesToOneApicWithTheLowestPriority() {
        for (int i = 0; i < CPUS; i++) {
            apics[i].mmioWrite(REG_LDR, 4, (1L << i) << 24);
            apics[i].mmioWrite(REG_TPR, 4, 0x80);
        }
        apics[6].mmioWrite(REG_TPR, 4, 0x10);
        icr(0, 0b1110_0000, LOGICAL | (ApicMessage.LOWEST_PRIORITY << 8) | 0x90);
        assertEquals(1 << 6, receivers(0x90));
    }

    @Test
    void initSipiSipi() {
        for (CpuEvents e : events) e.take(-1);
        // INIT level assert, then the de-assert that old MP code sends: ignored.
        icr(0, 3, (ApicMessage.INIT << 8) | (1 << 14) | (1 << 15));
        assertEquals(CpuEvents.INIT, events[3].take(-1));
        icr(0, 3, (ApicMessage.INIT << 8) | (1 << 15));
        assertEquals(0, events[3].take(-1), "INIT level de-assert is ignored");
        icr(0, 3, (ApicMessage.STARTUP << 8) | 0x9A);
        assertEquals(CpuEvents.SIPI, events[3].take(-1));
        assertEquals(0x9A, events[3].sipiVector);
        // INIT to all but self, as the kernel's AP bring-up may do.
        icr(0, 0, (ApicMessage.ALL_EXCLUDING_SELF << 18) | (ApicMessage.INIT << 8) | (1 << 14));
        assertEquals(0, events[0].take(-1));
        for (int i = 1; i < CPUS; i++) assertEquals(CpuEvents.INIT, events[i].take(-1));
        assertEquals(0, (int) apics[0].mmioRead(REG_ICR_LOW, 4) & (1 << 12), "delivery status reads idle");
    }

    @Test
    void initSipiReachesASoftwareDisabledAp() {
        LocalApic ap = apics[4];
        ap.reset();  // SVR back to 0xFF: software-disabled, as an AP is before the kernel enables it
        events[4].take(-1);
        icr(0, 4, (ApicMessage.INIT << 8) | (1 << 14));
        icr(0, 4, (ApicMessage.STARTUP << 8) | 0x10);
        assertEquals(CpuEvents.INIT | CpuEvents.SIPI, events[4].take(-1));
        icr(0, 4, 0x40);
        assertFalse(ap.inIrr(0x40), "fixed IPIs to a software-disabled APIC are dropped (KVM)");
    }

    @Test
    void nmiIpi() {
        events[7].take(-1);
        icr(0, 7, ApicMessage.NMI << 8);
        assertEquals(CpuEvents.NMI, events[7].take(-1));
    }

    @Test
    void hardwareDisabledApicReceivesNothing() {
        apics[5].setApicBase(DEFAULT_BASE);
        events[5].take(-1);
        icr(0, 0xFF, 0x41);
        icr(0, 5, ApicMessage.INIT << 8);
        assertFalse(apics[5].inIrr(0x41));
        assertEquals(0, events[5].take(-1));
    }

    @Test
    void rewrittenXapicIdIsRoutedByTheNewId() {
        apics[2].mmioWrite(REG_ID, 4, 0x40L << 24);
        icr(0, 0x40, 0x55);
        assertEquals(1 << 2, receivers(0x55));
        icr(0, 2, 0x56);
        assertEquals(0, receivers(0x56));
    }

    @Test
    void ioapicBroadcastReachesX2apicModeApicsAsInKvm() {
        for (int i = 0; i < CPUS; i++) x2apic(apics[i]);
        // An 8-bit 0xFF from the I/O APIC is a broadcast even to x2APIC-mode LAPICs (KVM's
        // x2APIC broadcast quirk); from an x2APIC ICR, 0xFF is just APIC ID 255.
        assertTrue(bus.deliver(0xFF, false, ApicMessage.FIXED, 0x58, false));
        assertEquals(0xFF, receivers(0x58));
        assertTrue(apics[0].writeMsr(0x830, (0xFFL << 32) | 0x59));
        assertEquals(0, receivers(0x59));
    }

    @Test
    void clusterModeBroadcastAndLowestPriorityWithinACluster() {
        for (int i = 0; i < CPUS; i++) {
            apics[i].mmioWrite(REG_DFR, 4, 0x0FFF_FFFFL);
            apics[i].mmioWrite(REG_LDR, 4, (long) (((i / 4) << 4) | (1 << (i % 4))) << 24);
            apics[i].mmioWrite(REG_TPR, 4, 0x20 + i * 0x10);
        }
        icr(0, 0xFF, LOGICAL | 0x5A);
        assertEquals(0xFF, receivers(0x5A), "0xFF broadcasts in the cluster model too");
        icr(0, 0x1F, LOGICAL | (ApicMessage.LOWEST_PRIORITY << 8) | 0xA0);
        assertEquals(1 << 4, receivers(0xA0), "CPU 4 has the lowest TPR of cluster 1");
    }

    @Test
    void duplicateApicIdIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> bus.add(3, false, new CpuEvents()));
    }

    @Test
    void thousandsOfApicsByX2apicId() {
        ApicBus large = new ApicBus(clock);
        LocalApic[] all = new LocalApic[1100];
        for (int i = 0; i < all.length; i++) {
            all[i] = large.add(i, i == 0, new CpuEvents());
            x2apic(all[i]);
        }
        assertTrue(all[0].writeMsr(0x830, (1099L << 32) | 0x33));
        for (int i = 0; i < all.length; i++) assertEquals(i == 1099, all[i].inIrr(0x33), "APIC " + i);
        assertTrue(all[17].writeMsr(0x830, ((long) ApicMessage.ALL_EXCLUDING_SELF << 18) | 0x34));
        for (int i = 0; i < all.length; i++) assertEquals(i != 17, all[i].inIrr(0x34), "APIC " + i);
    }
}
