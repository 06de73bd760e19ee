package dev.jkvm.vmm.emulated.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The host processor as an oracle: runs one user-mode x86-64 instruction natively between a
 * load and a store of ten general registers and RFLAGS (a thunk in an RWX mapping, called
 * through FFM). The instruction may use RAX, RCX, RDX, RBX, RSI, RDI, R8..R11 only (R15 holds
 * the state pointer; RSP/RBP and R12..R14 are not loaded), and must not fault.
 */
final class HostCpu implements AutoCloseable {
    /** Register numbers the thunk loads and stores. */
    static final int[] REGISTERS = {0, 1, 2, 3, 6, 7, 8, 9, 10, 11};
    static final int FLAGS_SLOT = 16;

    // push rbx..r15; mov r15, rdi; load registers from [r15 + 8*n]; push [r15+128]; popfq; load xmm0..7
    private static final String PROLOGUE = "535541544155415641574989ff498b07498b4f08498b5710498b5f18498b7730498b7f38"
            + "4d8b47404d8b4f484d8b57504d8b5f5841ffb7800000009d"
            // movdqu xmm0..xmm7, [r15 + 256 + 16*n]
            + "f3410f6f8700010000f3410f6f8f10010000f3410f6f9720010000f3410f6f9f30010000f3410f6fa740010000"
            + "f3410f6faf50010000f3410f6fb760010000f3410f6fbf70010000";
    // pushfq; pop [r15+128]; cld; store registers and xmm0..7; pop r15..rbx; ret
    private static final String EPILOGUE = "9c418f8780000000" + "fc" // pushfq; pop [r15+128]; cld (the ABI wants DF clear)
            + "49890749894f084989571049895f184989773049897f38"
            // movdqu [r15 + 256 + 16*n], xmm0..xmm7
            + "f3410f7f8700010000f3410f7f8f10010000f3410f7f9720010000f3410f7f9f30010000f3410f7fa740010000"
            + "f3410f7faf50010000f3410f7fb760010000f3410f7fbf70010000"
            + "4d8947404d894f484d8957504d895f58415f415e415d415c5d5bc3";

    private static final long CODE_SIZE = 4096;

    private final MemorySegment code;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment state = arena.allocate(1024, 64);
    /** Offset in the state block of a 64-byte data window memory-operand forms address (through RDI). */
    static final int DATA_OFFSET = 512, DATA_SIZE = 64;
    private final MethodHandle call;
    private final byte[] prologue = IsaMachine.hex(PROLOGUE);
    private final byte[] epilogue = IsaMachine.hex(EPILOGUE);

    HostCpu() {
        Linker linker = Linker.nativeLinker();
        try {
            MethodHandle mmap = linker.downcallHandle(linker.defaultLookup().find("mmap").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
            // PROT_READ|PROT_WRITE|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS (mmap(2)).
            MemorySegment m = (MemorySegment) mmap.invokeExact(MemorySegment.NULL, CODE_SIZE, 7, 0x22, -1, 0L);
            if (m.address() == -1L) throw new IllegalStateException("mmap of an executable page failed");
            code = m.reinterpret(CODE_SIZE);
        } catch (Throwable t) {
            throw new IllegalStateException("mmap failed", t);
        }
        call = linker.downcallHandle(code, FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
    }

    /** Runs {@code insn} with {@code regs} (indexed by register number) and {@code flags}; updates both in place. */
    long run(byte[] insn, long[] regs, long flags) {
        return run(insn, regs, flags, new long[16]);
    }

    /** As {@link #run(byte[], long[], long)} with XMM0..XMM7 as low/high quadword pairs in {@code xmm}, updated in place. */
    long run(byte[] insn, long[] regs, long flags, long[] xmm) {
        int p = 0;
        for (byte b : prologue) code.set(ValueLayout.JAVA_BYTE, p++, b);
        for (byte b : insn) code.set(ValueLayout.JAVA_BYTE, p++, b);
        for (byte b : epilogue) code.set(ValueLayout.JAVA_BYTE, p++, b);
        for (int r : REGISTERS) state.setAtIndex(ValueLayout.JAVA_LONG, r, regs[r]);
        state.setAtIndex(ValueLayout.JAVA_LONG, FLAGS_SLOT, flags);
        for (int i = 0; i < 16; i++) state.setAtIndex(ValueLayout.JAVA_LONG, 32 + i, xmm[i]);
        try {
            call.invokeExact(state);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        for (int r : REGISTERS) regs[r] = state.getAtIndex(ValueLayout.JAVA_LONG, r);
        for (int i = 0; i < 16; i++) xmm[i] = state.getAtIndex(ValueLayout.JAVA_LONG, 32 + i);
        return state.getAtIndex(ValueLayout.JAVA_LONG, FLAGS_SLOT);
    }

    /** Offset in the (page-aligned) code mapping where the instruction bytes start. */
    static int instructionOffset() {
        return PROLOGUE.length() / 2;
    }

    /** Native address of the data window. */
    long dataAddress() {
        return state.address() + DATA_OFFSET;
    }

    void setData(byte[] data) {
        for (int i = 0; i < DATA_SIZE; i++) state.set(ValueLayout.JAVA_BYTE, DATA_OFFSET + i, data[i]);
    }

    byte[] data() {
        byte[] d = new byte[DATA_SIZE];
        for (int i = 0; i < DATA_SIZE; i++) d[i] = state.get(ValueLayout.JAVA_BYTE, DATA_OFFSET + i);
        return d;
    }

    @Override
    public void close() {
        arena.close();
        Linker linker = Linker.nativeLinker();
        try {
            MethodHandle munmap = linker.downcallHandle(linker.defaultLookup().find("munmap").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            int rc = (int) munmap.invokeExact(code, CODE_SIZE);
            if (rc != 0) throw new IllegalStateException("munmap failed");
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
