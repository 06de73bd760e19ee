package dev.jkvm.vmm.emulated.cpu;

import dev.jkvm.vmm.devices.MmioDevice;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where a physical access goes: RAM, an internal device, an MMIO exit; nothing ever outside RAM. */
class PhysicalDispatchTest {
    @Test
    void openBusOutsideRamAndDevices() {
        TestMachine m = new TestMachine(1 << 20);
        assertEquals(0xFFFF_FFFFL, m.mem.read(1 << 20, 4));
        assertEquals(-1L, m.mem.read(0xFFFF_FFFF_FFFF_FFF8L, 8));
        m.mem.write(0x7FFF_FFFF_FFFF_0000L, 8, 1); // ignored, no host access
        assertEquals(0xFF, m.mem.read((1 << 20) - 1 + 1, 1));
        // A range that straddles the end of RAM is not RAM either.
        assertEquals(0xFFFFL, m.mem.read((1 << 20) - 1, 2));
    }

    @Test
    void internalDeviceAndMmioExits() {
        TestMachine m = new TestMachine(1 << 20);
        List<String> log = new ArrayList<>();
        m.mem.addDevice(0xFEC0_0000L, 0x1000, new MmioDevice() {
            @Override public long read(long address, int size) { log.add("r " + Long.toHexString(address)); return 0x11; }
            @Override public void write(long address, int size, long value) { log.add("w " + Long.toHexString(address) + "=" + value); }
        });
        X86Cpu cpu = m.cpu(0);
        TestMachine.protected32(cpu, 0x08, 0x10, 0);
        assertEquals(0x11, cpu.mmu.read(CpuState.DS, 0xFEC0_0010L, 4));
        cpu.mmu.write(CpuState.DS, 0xFEC0_0000L, 4, 3);
        assertEquals(List.of("r fec00010", "w fec00000=3"), log);

        // Not RAM, not a device: the read unwinds with an MMIO exit and is served after completeMmioRead.
        CpuException e = assertThrows(CpuException.class, () -> cpu.mmu.read(CpuState.DS, 0xD000_0000L, 4));
        assertEquals(CpuException.VMM_EXIT, e.vector);
        assertEquals(CpuExit.Kind.MMIO_READ, cpu.exit.kind);
        assertEquals(0xD000_0000L, cpu.exit.address);
        assertEquals(4, cpu.exit.size);
        cpu.exitPending = false; // as run() does when it returns the exit
        cpu.completeMmioRead(0x1_2345_6789L);
        assertEquals(0x2345_6789L, cpu.mmu.read(CpuState.DS, 0xD000_0000L, 4));

        // Writes are posted; a second one before the first is returned restarts its instruction.
        cpu.mmu.write(CpuState.DS, 0xD000_0004L, 2, 0xBEEF);
        assertEquals(CpuExit.Kind.MMIO_WRITE, cpu.exit.kind);
        assertEquals(0xBEEF, cpu.exit.value);
        assertTrue((cpu.events.peek() & CpuEvents.SELF) != 0, "the executor is told to return");
        assertEquals(CpuException.VMM_EXIT,
                assertThrows(CpuException.class, () -> cpu.mmu.write(CpuState.DS, 0xD000_0008L, 2, 1)).vector);
        assertEquals(0xD000_0004L, cpu.exit.address, "first write kept");
    }

    @Test
    void codeOutsideRamIsAnInternalErrorExitNotAJavaException() {
        TestMachine m = new TestMachine(1 << 20);
        X86Cpu cpu = m.cpu(0);
        TestMachine.protected32(cpu, 0x08, 0x10, 0);
        m.mem.write(0x1000, 1, 0xE9);                 // jmp rel32 to 0xC0000000 (no RAM there)
        m.mem.write(0x1001, 4, 0xC000_0000L - 0x1005);
        cpu.s.rip = 0x1000;
        CpuExit e = cpu.run();
        assertEquals(CpuExit.Kind.INTERNAL_ERROR, e.kind, e::toString);
        assertTrue(e.reason.contains("0xc0000000") && e.reason.contains("not RAM"), e.reason);
        assertEquals(0xC000_0000L, cpu.s.rip, "RIP at the unfetchable instruction");
    }

    @Test
    void ramStoresInvalidateCodePages() {
        TestMachine m = new TestMachine(1 << 20);
        CodePages cp = m.mem.codePages();
        int v = cp.markCode(0x5000);
        m.mem.write(0x5FFF, 1, 0x90);
        assertTrue(cp.version(0x5000) != v, "store to a code page bumps its version");
        int w = cp.markCode(0x6000);
        m.mem.write(0x5FFE, 4, 0); // crossing into the next page
        assertTrue(cp.version(0x6000) != w);
        int x = cp.markCode(0x7000);
        m.mem.compareAndExchange(0x7008, 8, 0, 1);
        assertTrue(cp.version(0x7000) != x, "locked stores count too");
    }
}
