package dev.jkvm.klib.asm;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A piece of a section whose size is either fixed (bytes, reservations) or decided at layout
 * (relaxable branches, alignment padding). Layout is what makes forward references work.
 */
sealed interface Fragment {

    /** Size in bytes when the fragment starts at {@code offset}. */
    long size(long offset);

    /** Fixed bytes with label fixups. */
    final class Data implements Fragment {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final List<Fixup> fixups = new ArrayList<>();

        @Override
        public long size(long offset) {
            return bytes.size();
        }
    }

    /**
     * jmp/jcc to a label: 2-byte short form until layout proves the displacement does not fit
     * in 8 bits, then the near form (grow-only, so layout terminates; the same rule as GNU as).
     */
    final class Branch implements Fragment {
        final Cond cond;
        final Label target;
        final Mode mode;
        boolean near;

        Branch(Cond cond, Label target, Mode mode) {
            this.cond = cond;
            this.target = target;
            this.mode = mode;
        }

        @Override
        public long size(long offset) {
            if (!near) {
                return 2;
            }
            int rel = mode == Mode.REAL16 ? 2 : 4;
            return (cond == null ? 1 : 2) + rel;
        }
    }

    /** Padding to a power-of-two boundary: NOPs when {@code mode} is set, else {@code fill} bytes. */
    record Align(int alignment, Mode mode, int fill) implements Fragment {
        @Override
        public long size(long offset) {
            return (alignment - (offset % alignment)) % alignment;
        }
    }

    /** Zero bytes (uninitialised data in a bss section). */
    record Reserve(long length) implements Fragment {
        @Override
        public long size(long offset) {
            return length;
        }
    }
}
