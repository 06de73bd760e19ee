package dev.jkvm.vmm.emulated.lockstep;

/**
 * A second QEMU as the CPU under test: QEMU against itself must agree on every step, which checks
 * the harness (state copy, stepping, comparison, masks) before the emulated CPU exists. Memory
 * addresses are used as virtual addresses: the harness's kernels identity-map RAM.
 */
final class QemuCpuUnderTest implements CpuUnderTest {
    private final QemuTarget q;

    QemuCpuUnderTest(QemuTarget q) {
        this.q = q;
    }

    @Override
    public void load(X86State registers, SegmentState segments) throws Exception {
        // Selectors, control registers and descriptor caches cannot be written through the gdbstub
        // beyond what G does; both QEMUs boot the same kernel to the same point, so they agree.
        q.setState(registers);
    }

    @Override
    public void setRegisters(X86State registers) throws Exception {
        q.setState(registers);
    }

    @Override
    public void writeMemory(long physical, byte[] data) throws Exception {
        q.write(physical, data);
    }

    @Override
    public byte[] readMemory(long physical, int length) throws Exception {
        return q.read(physical, length);
    }

    @Override
    public StepEvent step(DeviceAnswers devices) throws Exception {
        X86State before = q.state();
        byte[] code = q.read(before.rip, 16);
        int bits = (before.efer & 0x400) != 0 ? 64 : 32;
        boolean in = SpecialInstruction.of(code, bits) == SpecialInstruction.IN;
        GdbRemote.StopReply r = q.step();
        if (!r.stopped()) return StepEvent.SHUTDOWN;
        for (int i = 0; i < 4 && q.state().differences(before, 0).isEmpty(); i++) {
            // as in Lockstep.step: a step that executed nothing
            r = q.step();
            if (!r.stopped()) return StepEvent.SHUTDOWN;
        }
        if (in) {
            // This QEMU's own devices answered (a timer, say, reads differently here); take the oracle's answer.
            int op = code[code.length > 0 && (code[0] & 0xFF) == 0x66 ? 1 : 0] & 0xFF;
            int size = (op & 1) == 0 ? 1 : (code[0] & 0xFF) == 0x66 ? 2 : 4;
            X86State s = q.state();
            long mask = size == 4 ? 0xFFFF_FFFFL : (1L << (8 * size)) - 1;
            long value = devices.portIn((int) before.gpr[2] & 0xFFFF, size) & mask;
            s.gpr[0] = size == 4 ? value : (s.gpr[0] & ~mask) | value;
            q.setState(s);
        }
        return StepEvent.EXECUTED;
    }

    @Override
    public long runTo(long rip, long maxInstructions) throws Exception {
        q.runTo(rip);
        return 0;
    }

    @Override
    public X86State registers() throws Exception {
        return q.state();
    }

    @Override
    public SegmentState segments() throws Exception {
        return q.segments();
    }

    @Override
    public boolean bootsItself() {
        return true;
    }

    @Override
    public void close() {
        q.close();
    }
}
