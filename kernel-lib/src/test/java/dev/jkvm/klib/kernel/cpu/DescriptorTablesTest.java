package dev.jkvm.klib.kernel.cpu;

import dev.jkvm.klib.arch.SegmentDescriptors;
import dev.jkvm.klib.rt.Asm;
import dev.jkvm.klib.rt.HostAddressSpace;
import dev.jkvm.klib.rt.HostArena;
import dev.jkvm.klib.rt.Memory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The GDT, IDT and TSS the kernel writes, decoded field by field on the host (Intel SDM Vol. 3A
 * 3.4.5 segment descriptors, 8.2.3 the 16-byte TSS descriptor, 6.14.1 the 64-bit interrupt gate,
 * 8.7 the 64-bit TSS), in memory filled with garbage so that every field must be written.
 */
class DescriptorTablesTest {
    private MemorySegment memory;

    @BeforeEach
    void setUp() {
        memory = HostArena.global().allocate(8192, 16).fill((byte) 0xA5);
        Asm.hostDefine("kernel_memzero", args -> {
            HostAddressSpace.view(args[0], args[1], "kernel_memzero").fill((byte) 0);
            return 0;
        });
    }

    @Test
    void theGdtHoldsTheFlatDescriptorsInSysretOrderAndOneTssPairPerCpu() {
        long gdt = memory.address();
        assertEquals((5 + 2 * 3) * 8, Gdt.bytesFor(3));
        assertEquals(0x28, Gdt.tssSelector(0));
        assertEquals(0x38, Gdt.tssSelector(1));
        Gdt.format(gdt);
        assertEquals(0, Memory.load64(gdt));
        assertEquals(SegmentDescriptors.KERNEL_CODE64, Memory.load64(gdt + Gdt.CODE64_SELECTOR));
        assertEquals(SegmentDescriptors.KERNEL_DATA, Memory.load64(gdt + Gdt.DATA_SELECTOR));
        assertEquals(SegmentDescriptors.USER_DATA, Memory.load64(gdt + (Gdt.USER_DATA_SELECTOR & ~3)));
        assertEquals(SegmentDescriptors.USER_CODE64, Memory.load64(gdt + (Gdt.USER_CODE64_SELECTOR & ~3)));

        long tss = 0x1234_5678_9ABC_DEF0L;
        Gdt.setTss(gdt, 1, tss, 0x5_6789);
        long low = Memory.load64(gdt + 0x38);
        assertEquals(0x6789, low & 0xFFFF, "limit 15:0");
        assertEquals(0xBC_DEF0, low >>> 16 & 0xFF_FFFF, "base 23:0");
        assertEquals(0x89, low >>> 40 & 0xFF, "present, DPL 0, available 64-bit TSS");
        assertEquals(0x5, low >>> 48 & 0xF, "limit 19:16");
        assertEquals(0, low >>> 52 & 0xF, "no flags");
        assertEquals(0x9A, low >>> 56, "base 31:24");
        assertEquals(0x1234_5678L, Memory.load64(gdt + 0x40), "base 63:32, upper half's rest zero");
        assertEquals(0xA5A5A5A5A5A5A5A5L, Memory.load64(gdt + 0x28), "CPU 0's pair untouched");
    }

    @Test
    void everyIdtGateIsAnInterruptGateToItsStubWithIstForNmiDoubleFaultAndMachineCheck() {
        long stubs = memory.address();
        long idt = memory.address() + 4096;
        MemorySegment table = HostArena.global().allocate(Idt.BYTES, 16).fill((byte) 0xA5);
        idt = table.address();
        for (int vector = 0; vector < Idt.ENTRIES; vector++) {
            Memory.store64(stubs + vector * 8L, 0xFFFF_8000_0000_0000L | 0x1234_0000L * (vector + 1) | vector * 16L);
        }
        Idt.build(idt, stubs);
        for (int vector = 0; vector < Idt.ENTRIES; vector++) {
            long stub = Memory.load64(stubs + vector * 8L);
            long low = Memory.load64(idt + vector * 16L);
            int ist = vector == Idt.NMI ? Tss.IST_NMI : vector == Idt.DOUBLE_FAULT ? Tss.IST_DOUBLE_FAULT
                    : vector == Idt.MACHINE_CHECK ? Tss.IST_MACHINE_CHECK : 0;
            assertEquals(stub & 0xFFFF, low & 0xFFFF, "offset 15:0 of " + vector);
            assertEquals(Gdt.CODE64_SELECTOR, low >>> 16 & 0xFFFF, "selector of " + vector);
            assertEquals(ist, low >>> 32 & 0xFF, "IST of " + vector);
            assertEquals(0x8E, low >>> 40 & 0xFF, "present, DPL 0, interrupt gate: " + vector);
            assertEquals(stub >>> 16 & 0xFFFF, low >>> 48, "offset 31:16 of " + vector);
            assertEquals(stub >>> 32, Memory.load64(idt + vector * 16L + 8), "offset 63:32 of " + vector);
        }
    }

    @Test
    void theTssHoldsRsp0TheThreeIstStacksAndNoIoBitmap() {
        long tss = memory.address() + 128;
        Tss.format(tss, 0x1111, 0x2222, 0x3333, 0x4444);
        assertEquals(0, Memory.load32(tss), "reserved");
        assertEquals(0x1111, Memory.load64(tss + 4), "RSP0");
        assertEquals(0, Memory.load64(tss + 12), "RSP1");
        assertEquals(0x2222, Memory.load64(tss + 36), "IST1: double fault");
        assertEquals(0x3333, Memory.load64(tss + 44), "IST2: NMI");
        assertEquals(0x4444, Memory.load64(tss + 52), "IST3: machine check");
        assertEquals(0, Memory.load64(tss + 60), "IST4");
        assertEquals(Tss.SIZE, Memory.load16(tss + 102), "I/O map base at the limit: no bitmap");
        assertEquals((byte) 0xA5, Memory.load8(tss + Tss.SIZE), "nothing past the TSS");
        assertEquals((byte) 0xA5, Memory.load8(tss - 1));
    }

    @Test
    void loadingPassesTheTablesAndLimits() {
        StringBuilder calls = new StringBuilder();
        Asm.hostDefine("kernel_lgdt", args -> {
            calls.append("lgdt ").append(Long.toHexString(args[0])).append(' ').append(args[1]).append(';');
            return 0;
        });
        Asm.hostDefine("kernel_ltr", args -> {
            calls.append("ltr ").append(Long.toHexString(args[0])).append(';');
            return 0;
        });
        Asm.hostDefine("kernel_lidt", args -> {
            calls.append("lidt ").append(Long.toHexString(args[0])).append(' ').append(args[1]).append(';');
            return 0;
        });
        Gdt.load(0x5000, 4, 3);
        Idt.load(0x6000);
        assertEquals("lgdt 5000 " + ((5 + 8) * 8 - 1) + ";ltr " + Integer.toHexString(0x28 + 3 * 16) + ";lidt 6000 4095;",
                calls.toString());
    }
}
