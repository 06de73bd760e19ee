package dev.jkvm.vmm.emulated.lockstep;

import java.util.function.Consumer;

/**
 * A CPU under test with a deliberate bug: after every execution of the instruction at one address
 * its registers are changed. Shows that the lockstep comparison fails when a CPU is wrong, and
 * that it names the step and the register.
 */
final class FaultInjectingCpu implements CpuUnderTest {
    private final CpuUnderTest inner;
    private final long rip;
    private final Consumer<X86State> corruption;

    FaultInjectingCpu(CpuUnderTest inner, long rip, Consumer<X86State> corruption) {
        this.inner = inner;
        this.rip = rip;
        this.corruption = corruption;
    }

    @Override
    public StepEvent step(DeviceAnswers devices) throws Exception {
        boolean hit = inner.registers().rip == rip;
        StepEvent e = inner.step(devices);
        if (hit) {
            X86State s = inner.registers();
            corruption.accept(s);
            inner.setRegisters(s);
        }
        return e;
    }

    /** Stepwise, so the fault happens on the fast path too. */
    @Override
    public long runTo(long target, long maxInstructions) throws Exception {
        return CpuUnderTest.super.runTo(target, maxInstructions);
    }

    @Override
    public void load(X86State registers, SegmentState segments) throws Exception {
        inner.load(registers, segments);
    }

    @Override
    public void setRegisters(X86State registers) throws Exception {
        inner.setRegisters(registers);
    }

    @Override
    public void writeMemory(long physical, byte[] data) throws Exception {
        inner.writeMemory(physical, data);
    }

    @Override
    public void writeVirtual(long linear, byte[] data) throws Exception {
        inner.writeVirtual(linear, data);
    }

    @Override
    public byte[] readMemory(long physical, int length) throws Exception {
        return inner.readMemory(physical, length);
    }

    @Override
    public X86State registers() throws Exception {
        return inner.registers();
    }

    @Override
    public SegmentState segments() throws Exception {
        return inner.segments();
    }

    @Override
    public boolean bootsItself() {
        return inner.bootsItself();
    }

    @Override
    public void close() {
        inner.close();
    }
}
