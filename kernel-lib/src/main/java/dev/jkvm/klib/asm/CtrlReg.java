package dev.jkvm.klib.asm;

import java.util.Locale;

/** Control registers accessible with mov (Intel SDM Vol. 3A §2.5; CR8 is the 64-bit task-priority register). */
public enum CtrlReg {
    CR0(0), CR2(2), CR3(3), CR4(4), CR8(8);

    private final int code;

    CtrlReg(int code) {
        this.code = code;
    }

    /** The register number; CR8 needs REX.R. */
    public int code() {
        return code;
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
