package dev.jkvm.klib.kernel.trap;

/**
 * The frame every interrupt entry stub leaves on the stack before calling Traps.handle: the
 * fifteen general registers the common entry pushed (rax first, r15 last, so r15 is lowest),
 * then the vector and error code the stub pushed (0 for vectors without one), then what the CPU
 * pushed for an interrupt in 64-bit mode (Intel SDM Vol. 3A 6.14.2): rip, cs, rflags, rsp, ss.
 */
public final class TrapFrame {
    private TrapFrame() {
    }

    public static final int R15 = 0;
    public static final int R14 = 8;
    public static final int R13 = 16;
    public static final int R12 = 24;
    public static final int R11 = 32;
    public static final int R10 = 40;
    public static final int R9 = 48;
    public static final int R8 = 56;
    public static final int RDI = 64;
    public static final int RSI = 72;
    public static final int RBP = 80;
    public static final int RBX = 88;
    public static final int RDX = 96;
    public static final int RCX = 104;
    public static final int RAX = 112;
    public static final int VECTOR = 120;
    public static final int ERROR_CODE = 128;
    public static final int RIP = 136;
    public static final int CS = 144;
    public static final int RFLAGS = 152;
    public static final int RSP = 160;
    public static final int SS = 168;
    public static final int SIZE = 176;
}
