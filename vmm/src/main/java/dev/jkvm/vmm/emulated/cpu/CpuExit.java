package dev.jkvm.vmm.emulated.cpu;

/**
 * Why {@link X86Cpu#run} returned: one mutable record per vCPU, rewritten on every exit, so an
 * exit allocates nothing. Valid until the next {@code run}.
 *
 * <p>Port input: the backend reads {@link #port}/{@link #size}, then calls
 * {@link X86Cpu#completeIn} before the next {@code run}; output already happened ({@link #value}
 * holds what was written). MMIO reads: {@link X86Cpu#completeMmioRead} supplies the value and the
 * instruction re-executes; MMIO writes are posted ({@link #value} is what was written).
 */
public final class CpuExit {
    public enum Kind {
        /** Port input of {@link #size} bytes from {@link #port}: answer with {@link X86Cpu#completeIn}. */
        PORT_IN,
        /** Port output of {@link #value} ({@link #size} bytes) to {@link #port}; the instruction retired. */
        PORT_OUT,
        /** Load of {@link #size} bytes at guest-physical {@link #address}: answer with {@link X86Cpu#completeMmioRead}. */
        MMIO_READ,
        /** Store of {@link #value} ({@link #size} bytes) at guest-physical {@link #address}; the instruction retired. */
        MMIO_WRITE,
        /** Triple fault (SDM Vol. 3 §6.15 "Interrupt 8"): the processor stopped; {@link #reason} says what happened. */
        SHUTDOWN,
        /** {@link CpuEvents#KICK} was posted: the VMM asked {@code run} to return. */
        KICKED,
        /** A bug in the emulator (a Java exception) at {@link #address} = RIP; {@link #reason} holds the message. */
        INTERNAL_ERROR
    }

    public Kind kind;
    public int port;
    /** Access size in bytes: 1, 2, 4 (or 8 for MMIO). */
    public int size;
    public long address;
    public long value;
    public String reason;

    void portIn(int port, int size) {
        this.kind = Kind.PORT_IN;
        this.port = port;
        this.size = size;
        this.value = 0;
    }

    void portOut(int port, int size, long value) {
        this.kind = Kind.PORT_OUT;
        this.port = port;
        this.size = size;
        this.value = value;
    }

    void mmio(Kind kind, long address, int size, long value) {
        this.kind = kind;
        this.address = address;
        this.size = size;
        this.value = value;
    }

    @Override
    public String toString() {
        return switch (kind) {
            case PORT_IN -> "in port 0x" + Integer.toHexString(port) + " size " + size;
            case PORT_OUT -> "out port 0x" + Integer.toHexString(port) + " size " + size + " value 0x" + Long.toHexString(value);
            case MMIO_READ -> "mmio read 0x" + Long.toHexString(address) + " size " + size;
            case MMIO_WRITE -> "mmio write 0x" + Long.toHexString(address) + " size " + size + " value 0x" + Long.toHexString(value);
            case SHUTDOWN -> "shutdown: " + reason;
            case KICKED -> "kicked";
            case INTERNAL_ERROR -> "internal error at 0x" + Long.toHexString(address) + ": " + reason;
            case null -> "none";
        };
    }
}
