package dev.jkvm.vmm.emulated.lockstep;

/**
 * A second QEMU as the CPU under test: QEMU against itself must agree on every step, which checks
 * the harness (state copy, stepping, comparison, masks) before the emulated CPU exists, and with a
 * deliberate fault injected ({@link #corruptAfter}) shows that the comparison can fail. Memory
 * addresses are used as virtual addresses: the harness's kernels identity-map RAM.
 */
final class QemuCpuUnderTest implements CpuUnderTest {
    private final QemuTarget q;
    private long steps;
    private long corruptAt = -1;
    private int corruptRegister;

    QemuCpuUnderTest(QemuTarget q) {
        this.q = q;
    }

    /** After the {@code step}-th step, flips bit 0 of general register {@code gpr}: a fake CPU bug. */
    QemuCpuUnderTest corruptAfter(long step, int gpr) {
        corruptAt = step;
        corruptRegister = gpr;
        return this;
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
        GdbRemote.StopReply r = q.step();
        if (!r.stopped()) return StepEvent.SHUTDOWN;
        if (++steps == corruptAt) {
            X86State s = q.state();
            s.gpr[corruptRegister] ^= 1;
            q.setState(s);
        }
        return StepEvent.EXECUTED;
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
