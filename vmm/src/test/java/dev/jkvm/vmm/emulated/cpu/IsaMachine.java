package dev.jkvm.vmm.emulated.cpu;

import dev.jkvm.vmm.emulated.time.HostClock;
import dev.jkvm.vmm.memory.GuestMemory;

import java.lang.foreign.Arena;
import java.util.HexFormat;

/**
 * A test machine around one real emulated CPU (the system side's X86Cpu, Mmu and PhysicalMemory)
 * for ISA tests: 4 MiB of RAM, flat segments, in 64-bit mode an identity map of the first GiB
 * (one 1 GiB page), code loaded at {@link #CODE}, stack below {@link #STACK}; {@link #run}
 * executes through the executor until HLT.
 */
final class IsaMachine {
    static final long CODE = 0x1000, STACK = 0x80000, DATA = 0x20000;
    private static final long PML4 = 0x300000, PDPT = 0x301000;

    final GuestMemory ram = new GuestMemory();
    final PhysicalMemory memory;
    final X86Cpu cpu;
    final CpuState s;
    final Executor executor;

    IsaMachine(int mode) {
        this(mode, null);
    }

    /** A machine with its own vCPU over {@code other}'s RAM (null: new RAM), for SMP tests. */
    IsaMachine(int mode, IsaMachine other) {
        this(mode, other, null);
    }

    /** As {@link #IsaMachine(int, IsaMachine)} with a CPUID table ({@code null}: the minimal one below). */
    IsaMachine(int mode, IsaMachine other, CpuidSource cpuid) {
        if (other == null) {
            ram.addRegion(0, Arena.ofAuto().allocate(4 << 20, 4096));
            memory = new PhysicalMemory(ram);
        } else {
            memory = other.memory;
        }
        cpu = new X86Cpu(other == null ? 0 : other.cpu.index + 1, memory, null, new CpuEvents(), new HostClock(), cpuid != null ? cpuid : (vcpu, leaf, sub, out) -> {
            out[0] = out[1] = out[2] = out[3] = 0;
            // BMI1 (leaf 7 EBX bit 3) and LZCNT (0x80000001 ECX bit 5) as the host processor the
            // oracle tests compare TZCNT/LZCNT with: without them F3 0F BC/BD decode as BSF/BSR.
            if (leaf == 0) out[0] = 7;
            if (leaf == 7) out[1] = 1 << 3;
            if (leaf == 0x8000_0001) out[2] = 1 << 5;
            if (leaf == 0x8000_0000) out[0] = 0x8000_0008;
            if (leaf == 0x8000_0008) out[0] = 40;
        });
        s = cpu.s;
        executor = cpu.executor;
        setMode(mode);
        s.gpr[CpuState.RSP] = STACK;
    }

    void setMode(int mode) {
        int code = CpuState.ATTR_P | CpuState.ATTR_S | CpuState.ATTR_G | 0xB;
        int data = CpuState.ATTR_P | CpuState.ATTR_S | CpuState.ATTR_G | 0x3;
        switch (mode) {
            case Decoder.MODE64 -> {
                memory.write(PML4, 8, PDPT | 3);
                memory.write(PDPT, 8, 0x83); // 1 GiB page at 0, present, writable
                s.cr3 = PML4;
                s.efer = 0x500;
                s.cr0 = 0x8000_0011L;
                s.cr4 = 0x620;
                code |= CpuState.ATTR_L;
                data |= CpuState.ATTR_DB;
            }
            case Decoder.MODE32 -> {
                s.efer = 0;
                s.cr0 = 0x11;
                s.cr4 = 0x600;
                code |= CpuState.ATTR_DB;
                data |= CpuState.ATTR_DB;
            }
            default -> {
                s.efer = 0;
                s.cr0 = 0x10;
                s.cr4 = 0x600;
                code &= ~CpuState.ATTR_G;
                data &= ~CpuState.ATTR_G;
            }
        }
        for (int i = 0; i < 6; i++) {
            s.segSelector[i] = 0;
            s.segAttr[i] = i == CpuState.CS ? code : data;
            s.segBase[i] = 0;
            s.segLimit[i] = mode == Decoder.MODE16 ? 0xFFFF : 0xFFFF_FFFFL;
        }
        s.cpl = 0;
        s.activity = CpuState.Activity.RUNNING;
        cpu.stateChanged();
    }

    static byte[] hex(String text) {
        return HexFormat.of().parseHex(text.replaceAll("\\s+", ""));
    }

    void load(long address, byte[] bytes) {
        for (int i = 0; i < bytes.length; i++) memory.write(address + i, 1, bytes[i] & 0xFF);
    }

    /** Loads {@code hexCode} + HLT at CODE and runs it until HLT. */
    IsaMachine run(String hexCode) {
        byte[] code = hex(hexCode);
        load(CODE, code);
        load(CODE + code.length, new byte[] {(byte) 0xF4});
        s.rip = CODE;
        return resume();
    }

    IsaMachine resume() {
        s.activity = CpuState.Activity.RUNNING;
        for (int i = 0; i < 1_000_000 && s.activity == CpuState.Activity.RUNNING; i++) {
            cpu.events.take(-1);
            executor.run(10_000);
        }
        if (s.activity != CpuState.Activity.HALTED) throw new AssertionError("did not reach HLT, RIP 0x" + Long.toHexString(s.rip));
        return this;
    }

    /** Runs until HLT, returning the exception raised instead (RIP left at the faulting instruction). */
    CpuException runExpectingFault(String hexCode) {
        try {
            run(hexCode);
        } catch (CpuException e) {
            return e;
        }
        throw new AssertionError("no exception");
    }

    long reg(int r) {
        return s.gpr[r];
    }

    long flags() {
        return Flags.get(s);
    }

    long mem(long address, int size) {
        return memory.read(address, size);
    }
}
