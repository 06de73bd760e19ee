package dev.jkvm.vmm.emulated.cpu;

import dev.jkvm.vmm.boot.BootInfo;
import dev.jkvm.vmm.boot.MultibootLoader;
import dev.jkvm.vmm.emulated.time.HostClock;
import dev.jkvm.vmm.memory.GuestMemory;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Test-only: loads a multiboot ELF into guest RAM, runs the BSP alone from the multiboot state
 * and answers its port exits — COM1 output captured, the line status register always ready,
 * QEMU's isa-debug-exit (port 0xF4) ends the run — with no LAPIC and no devices.
 */
final class BootHarness {
    static final int COM1 = 0x3F8, DEBUG_EXIT = 0xF4;

    final StringBuilder serial = new StringBuilder();
    final X86Cpu cpu;
    final PhysicalMemory memory;
    long exitCode = -1;
    CpuExit last;
    long exits;

    BootHarness(byte[] image, long ramBytes) {
        MemorySegment seg = Arena.ofAuto().allocate(ramBytes, 4096);
        GuestMemory ram = new GuestMemory();
        ram.addRegion(0, seg);
        BootInfo boot = MultibootLoader.load(image, ram, "");
        memory = new PhysicalMemory(ram);
        cpu = new X86Cpu(0, memory, null, new CpuEvents(), new HostClock(), BootHarness::cpuid);
        cpu.setMultibootState(boot.entry(), boot.mbiAddress());
    }

    static byte[] resource(String name) throws IOException {
        try (InputStream in = BootHarness.class.getResourceAsStream("/dev/jkvm/images/" + name)) {
            if (in == null) throw new IOException(name + " not on the test class path: build images first");
            return in.readAllBytes();
        }
    }

    /** A small Intel-like CPUID: long mode, NX, 1 GiB pages, SYSCALL, RDTSCP, FXSR/SSE/SSE2, PAT, PGE, PSE, TSC, MSR. */
    static void cpuid(int vcpu, int leaf, int sub, int[] out) {
        out[0] = out[1] = out[2] = out[3] = 0;
        switch (leaf) {
            case 0 -> { out[0] = 0xD; out[1] = 0x756E6547; out[3] = 0x49656E69; out[2] = 0x6C65746E; }
            case 1 -> {
                out[0] = 0x000506E3;
                out[1] = (vcpu << 24) | (1 << 16);
                out[3] = 1 | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 8) | (1 << 9) | (1 << 13) | (1 << 15)
                        | (1 << 16) | (1 << 24) | (1 << 25) | (1 << 26);
            }
            case 0x8000_0000 -> out[0] = 0x8000_0008;
            case 0x8000_0001 -> out[3] = (1 << 11) | (1 << 20) | (1 << 26) | (1 << 27) | (1 << 29);
            case 0x8000_0008 -> out[0] = 0x3028;
            default -> { }
        }
    }

    /** Runs until the debug-exit port is written, a shutdown, an internal error, or {@code maxExits} exits. */
    BootHarness run(long maxExits) {
        while (exits < maxExits) {
            CpuExit e = cpu.run();
            last = e;
            exits++;
            switch (e.kind) {
                case PORT_OUT -> {
                    if (e.port == COM1) serial.append((char) (e.value & 0xFF));
                    if (e.port == DEBUG_EXIT) {
                        exitCode = e.value;
                        return this;
                    }
                }
                case PORT_IN -> cpu.completeIn(e.port == COM1 + 5 ? 0x60 : 0xFF);
                case MMIO_READ -> cpu.completeMmioRead(-1L);
                case MMIO_WRITE -> { }
                case SHUTDOWN, INTERNAL_ERROR, KICKED -> { return this; }
            }
        }
        return this;
    }
}
