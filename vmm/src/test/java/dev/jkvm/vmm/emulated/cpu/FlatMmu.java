package dev.jkvm.vmm.emulated.cpu;

/**
 * Test double: no paging; linear = segment base + offset (bases of CS/DS/ES/SS ignored in 64-bit
 * mode as hardware does), physical = linear. Addresses outside RAM give #PF so fault paths can be
 * tested.
 */
class FlatMmu extends Mmu {
    final FlatMemory memory;
    CpuState state;
    CpuException ex;

    FlatMmu(FlatMemory memory) {
        this.memory = memory;
    }

    private long linear(int seg, long offset) {
        boolean long64 = (state.efer & (1 << 10)) != 0 && (state.segAttr[CpuState.CS] & CpuState.ATTR_L) != 0;
        if (long64 && seg < CpuState.FS) return offset;
        long lin = state.segBase[seg] + offset;
        return long64 ? lin : lin & 0xFFFF_FFFFL;
    }

    private long check(long linear, int size, int kind) {
        if (linear < 0 || linear + size > memory.size) throw ex.pageFault(linear, kind == WRITE ? 2 : 0);
        return linear;
    }

    @Override
    public long read(int seg, long offset, int size) {
        return memory.read(check(linear(seg, offset), size, READ), size);
    }

    @Override
    public void write(int seg, long offset, int size, long value) {
        memory.write(check(linear(seg, offset), size, WRITE), size, value);
    }

    @Override
    public long readLinear(long linear, int size, boolean supervisor) {
        return memory.read(check(linear, size, READ), size);
    }

    @Override
    public void writeLinear(long linear, int size, long value, boolean supervisor) {
        memory.write(check(linear, size, WRITE), size, value);
    }

    @Override
    public long translate(int seg, long offset, int size, int kind) {
        return check(linear(seg, offset), size, kind);
    }

    @Override
    public long translateFetch(long linear) {
        return check(linear, 1, EXECUTE);
    }

    @Override
    public int fetchByte(long linear) {
        return (int) memory.read(check(linear, 1, EXECUTE), 1);
    }

    @Override
    public PhysicalMemory physical() {
        return memory;
    }

    @Override
    public void invalidate(long linear) {
    }

    @Override
    public void flush(boolean includingGlobal) {
    }
}
