package dev.jkvm.vmm.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import org.junit.jupiter.api.Test;

/** The condition-code shortcut after CMP/SUB agrees with the condition computed from materialized flags. */
class FlagsTest {
    @Test
    void conditionsAfterSubtractionMatchTheFlags() {
        Random rnd = new Random(3);
        LazyFlags f = new LazyFlags();
        LazyFlags m = new LazyFlags();
        long[] special = {0, 1, -1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0x7FFF_FFFFL, 0x8000_0000L, Long.MAX_VALUE, Long.MIN_VALUE};
        for (int i = 0; i < 200_000; i++) {
            int size = 1 << rnd.nextInt(4);
            long a = rnd.nextBoolean() ? special[rnd.nextInt(special.length)] : rnd.nextLong();
            long b = rnd.nextInt(4) == 0 ? a : rnd.nextBoolean() ? special[rnd.nextInt(special.length)] : rnd.nextLong();
            if (rnd.nextBoolean()) { a &= Flags.mask(size); b &= Flags.mask(size); }
            Flags.record(f, Flags.SUB, a, b, a - b, size);
            m.op = Flags.MATERIALIZED;
            m.materialized = Flags.materialize(f);
            for (int cc = 0; cc < 16; cc++) {
                assertEquals(Flags.condition(m, cc), Flags.condition(f, cc), "cc " + cc + " size " + size + " " + a + " - " + b);
            }
        }
    }
}
