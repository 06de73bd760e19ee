package dev.jkvm.vmm.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.boot.BootInfo;
import dev.jkvm.vmm.boot.MultibootLoader;
import dev.jkvm.vmm.emulated.time.HostClock;
import dev.jkvm.vmm.memory.GuestMemory;

import java.io.InputStream;
import java.lang.foreign.Arena;

import org.junit.jupiter.api.Test;

/**
 * The project's hello.elf booted on one emulated CPU with no LAPIC: multiboot entry in 32-bit
 * protected mode, its own switch to long mode, output on COM1 through port-I/O exits. The serial
 * port is answered minimally (LSR says the transmitter is empty).
 */
class ImageBootTest {

    static final class Booted {
        final StringBuilder serial = new StringBuilder();
        CpuExit.Kind last;
        long instructions;
        X86Cpu cpu;
    }

    static Booted boot(String image, long maxMillis) throws Exception {
        byte[] elf;
        try (InputStream in = ImageBootTest.class.getResourceAsStream("/dev/jkvm/images/" + image)) {
            if (in == null) throw new IllegalStateException(image + " not on the test class path: mvn -pl images -am install -DskipTests");
            elf = in.readAllBytes();
        }
        GuestMemory ram = new GuestMemory();
        ram.addRegion(0, Arena.ofAuto().allocate(128L << 20, 4096));
        BootInfo boot = MultibootLoader.load(elf, ram, "");
        PhysicalMemory mem = new PhysicalMemory(ram);
        X86Cpu cpu = new X86Cpu(0, mem, null, new CpuEvents(), new HostClock(), ImageBootTest::cpuid);
        cpu.setMultibootState(boot.entry(), boot.mbiAddress());
        Booted b = new Booted();
        b.cpu = cpu;
        long end = System.nanoTime() + maxMillis * 1_000_000;
        // Kicks the vCPU now and then so a halted one (no LAPIC here to wake it) returns to this loop.
        Thread kicker = Thread.ofPlatform().daemon().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
                cpu.events.post(CpuEvents.KICK);
            }
        });
        try {
            return runUntil(b, cpu, end);
        } finally {
            kicker.interrupt();
            kicker.join();
        }
    }

    private static Booted runUntil(Booted b, X86Cpu cpu, long end) {
        while (System.nanoTime() < end) {
            CpuExit e = cpu.run();
            b.last = e.kind;
            switch (e.kind) {
                case PORT_OUT -> {
                    if (e.port == 0x3F8) b.serial.append((char) (e.value & 0xFF));
                    if (e.port == 0x604 || e.port == 0xB004 || e.port == 0x501) return b;
                }
                case PORT_IN -> cpu.completeIn(e.port == 0x3FD ? 0x60 : 0);
                case MMIO_READ -> cpu.completeMmioRead(0);
                case MMIO_WRITE, KICKED -> { }
                default -> {
                    b.serial.append("\n[exit ").append(e.kind).append(' ').append(e.reason).append(" at 0x")
                            .append(Long.toHexString(e.address)).append(']');
                    return b;
                }
            }
            if (cpu.s.activity == CpuState.Activity.HALTED && (cpu.s.rflagsRest & Rflags.IF) == 0) {
                b.serial.append("\n[halted with interrupts off at 0x").append(Long.toHexString(cpu.s.rip)).append(']');
                return b;
            }
        }
        b.serial.append("\n[time limit]");
        return b;
    }

    /** A small CPUID table: family 6, long mode, the features the executor implements (SDM Vol. 2A CPUID). */
    static void cpuid(int vcpu, int leaf, int sub, int[] out) {
        out[0] = out[1] = out[2] = out[3] = 0;
        switch (leaf) {
            case 0 -> { out[0] = 0xD; out[1] = 0x756e6547; out[3] = 0x49656e69; out[2] = 0x6c65746e; }
            case 1 -> {
                out[0] = 0x000306A9;
                out[1] = vcpu << 24 | 1 << 16;
                // ECX: SSE3 no; CX16 (13), x2APIC (21), POPCNT (23)
                out[2] = 1 << 13 | 1 << 23;
                // EDX: FPU, TSC, MSR, PAE, CX8, APIC, SEP, PGE, CMOV, PAT, FXSR, SSE, SSE2
                out[3] = 1 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 8 | 1 << 9 | 1 << 11 | 1 << 13 | 1 << 15 | 1 << 16 | 1 << 24
                        | 1 << 25 | 1 << 26;
            }
            case 0x8000_0000 -> out[0] = 0x8000_0008;
            case 0x8000_0001 -> { out[2] = 1 | 1 << 5; out[3] = 1 << 11 | 1 << 20 | 1 << 29; } // LAHF, LZCNT; SYSCALL, NX, LM
            case 0x8000_0008 -> out[0] = 0x3028;
            default -> { }
        }
    }

    @Test
    void helloPrintsOnTheEmulatedCpu() throws Exception {
        Booted b = boot("hello.elf", 60_000);
        System.out.println("hello.elf serial:\n" + b.serial);
        System.out.println("unimplemented: " + b.cpu.executor.unimplemented().lines());
        assertTrue(b.serial.toString().toLowerCase().contains("hello"), b.serial.toString());
    }
}
