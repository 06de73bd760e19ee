package dev.jkvm.klib.asm;

import java.util.Locale;

/** Segment registers with their ModRM encoding and override prefix (Intel SDM Vol. 2A §2.1.1, Table 3-1). */
public enum SegReg {
    ES(0, 0x26), CS(1, 0x2E), SS(2, 0x36), DS(3, 0x3E), FS(4, 0x64), GS(5, 0x65);

    private final int code;
    private final int overridePrefix;

    SegReg(int code, int overridePrefix) {
        this.code = code;
        this.overridePrefix = overridePrefix;
    }

    /** The 3-bit register number used in the ModRM reg field. */
    public int code() {
        return code;
    }

    /** The segment-override prefix byte. */
    public int overridePrefix() {
        return overridePrefix;
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
