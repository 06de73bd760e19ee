package dev.jkvm.vmm.emulated.cpu;

/** Test access to the decoder's verdicts from other packages (the assembler catalog test lives in the assembler's package). */
public final class DecoderProbe {
    private DecoderProbe() {}

    public static Insn decode(byte[] code, int mode) {
        Insn in = new Insn();
        new Decoder().decode(at -> at < code.length ? code[(int) at] & 0xFF : 0x90, 0, mode, in);
        return in;
    }

    public static boolean invalid(Insn in) {
        return in.handler == Handler.UD || in.handler == Handler.GP_LENGTH;
    }

    public static boolean unimplemented(Insn in) {
        return in.handler == Handler.UNIMPLEMENTED;
    }

    public static boolean system(Insn in) {
        return in.handler == Handler.SYSTEM;
    }

    public static boolean sse(Insn in) {
        return in.handler == Handler.SSE;
    }

    /** Handlers whose register operand sizes differ from {@link Insn#size} (extensions, CL counts, implicit registers). */
    public static boolean mixedSizes(Insn in) {
        return switch (in.handler) {
            case Handler.MOVZX, Handler.MOVSX, Handler.MOVSXD, Handler.SHIFT_CL, Handler.SHLD_CL, Handler.SHRD_CL,
                 Handler.SYSTEM, Handler.SSE, Handler.BT_EG, Handler.BTS_EG, Handler.BTR_EG, Handler.BTC_EG -> true;
            default -> false;
        };
    }
}
