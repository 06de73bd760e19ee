package dev.jkvm.vmm.emulated.cpu;

/** Test double for the system side: HLT halts; PUSHF/POPF whole; anything else is a test failure. */
class TestSystem extends SystemInstructions {
    int executed;

    @Override
    public void execute(X86Cpu cpu, Insn insn) {
        executed++;
        switch (insn.opcode) {
            case 0xF4 -> cpu.s.activity = CpuState.Activity.HALTED;
            case 0x9C -> {
                long v = Flags.get(cpu.s) & ~(Flags.TF | (1L << 16) | (1L << 17));
                push(cpu, insn, v);
            }
            case 0x9D -> {
                long v = pop(cpu, insn);
                long keep = Flags.get(cpu.s) & (Flags.IF | 0x3000L);
                Flags.set(cpu.s, (v & 0x0000_0000_003F_7FD5L & ~(Flags.IF | 0x3000L)) | keep);
            }
            default -> throw new AssertionError("system instruction " + insn.hexBytes());
        }
    }

    private static void push(X86Cpu cpu, Insn insn, long v) {
        long rsp = cpu.s.gpr[CpuState.RSP] - insn.opSize;
        cpu.mmu.write(CpuState.SS, rsp, insn.opSize, v);
        cpu.s.gpr[CpuState.RSP] = rsp;
    }

    private static long pop(X86Cpu cpu, Insn insn) {
        long rsp = cpu.s.gpr[CpuState.RSP];
        long v = cpu.mmu.read(CpuState.SS, rsp, insn.opSize);
        cpu.s.gpr[CpuState.RSP] = rsp + insn.opSize;
        return v;
    }
}
