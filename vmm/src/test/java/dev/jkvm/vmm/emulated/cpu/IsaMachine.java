package dev.jkvm.vmm.emulated.cpu;

import java.util.HexFormat;

/**
 * A flat test machine around one emulated CPU: 1 MiB of RAM, no paging, code loaded at
 * {@link #CODE}, stack below {@link #STACK}; {@link #run} executes until HLT.
 */
final class IsaMachine {
    static final long CODE = 0x1000, STACK = 0x80000, DATA = 0x20000;

    final FlatMemory memory;
    final FlatMmu mmu;
    final TestSystem system = new TestSystem();
    final X86Cpu cpu;
    final CpuState s;
    final Executor executor;

    IsaMachine(int mode) {
        memory = new FlatMemory(1 << 20);
        mmu = new FlatMmu(memory);
        cpu = new X86Cpu(mmu, system);
        s = cpu.s;
        mmu.state = s;
        mmu.ex = cpu.ex;
        executor = new Executor(cpu);
        setMode(mode);
        s.gpr[CpuState.RSP] = STACK;
    }

    void setMode(int mode) {
        int code = CpuState.ATTR_P | CpuState.ATTR_S | 0xB;
        int data = CpuState.ATTR_P | CpuState.ATTR_S | 0x3;
        switch (mode) {
            case Decoder.MODE64 -> {
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
            }
        }
        for (int i = 0; i < 6; i++) {
            s.segAttr[i] = i == CpuState.CS ? code : data;
            s.segBase[i] = 0;
            s.segLimit[i] = mode == Decoder.MODE16 ? 0xFFFF : 0xFFFF_FFFFL;
        }
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
        for (int i = 0; i < 1_000_000 && s.activity == CpuState.Activity.RUNNING; i++) executor.run(10_000);
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
