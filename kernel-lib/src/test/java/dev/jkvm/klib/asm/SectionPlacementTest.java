package dev.jkvm.klib.asm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.junit.jupiter.api.Test;

/** Placement of sections one after another, moving a layout, and linking across sections. */
class SectionPlacementTest {

    private static long u32(byte[] b, int at) {
        return Integer.toUnsignedLong(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(at));
    }

    private static long u64(byte[] b, int at) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(at);
    }

    @Test
    void appendAlignsToTheLargerOfTheMinimumAndTheSectionsOwnAlignment() {
        Assembler a = new Assembler(Mode.LONG64);
        Section text = a.section("text");
        a.db(new byte[5]);
        Section table = a.section("table", Section.Kind.DATA);
        a.align(256);
        a.dq(1);
        Section tail = a.section("tail", Section.Kind.DATA);
        a.db(new byte[3]);

        SectionPlacement p = new SectionPlacement(0x1001);
        assertEquals(0x1010, p.append(text, 16));
        assertEquals(0x1100, p.append(table, 16), "the section's 256-byte alignment wins over 16");
        assertEquals(0x1110, p.append(tail, 16));
        assertEquals(0x1113, p.end());
        assertEquals(0x2000, p.alignEnd(0x1000));
        assertTrue(p.isPlaced(table));
    }

    @Test
    void linkingAppliesPcRelativeAndAbsoluteFieldsAcrossSectionsAndSurvivesAMove() {
        Assembler a = new Assembler(Mode.LONG64);
        Section rodata = a.section("rodata", Section.Kind.RODATA);
        a.db(new byte[8]);
        Label message = a.label("message");
        a.asciz("hi");
        Section text = a.section("text");
        a.lea(Reg.RSI, Mem.rip(message)); // field at 3, instruction ends at 7: PC32 with A = -4
        a.dq(message);                    // ABS64 at 7

        SectionPlacement offsets = new SectionPlacement(0);
        offsets.append(text, 64);
        offsets.append(rodata, 64);
        assertEquals(64, offsets.address(rodata));
        SectionPlacement moved = offsets.movedBy(0x7f00_0000_0000L);
        assertEquals(0x7f00_0000_0000L + 64 + 8, moved.address(message));

        byte[] linked = moved.linked(text);
        long field = 0x7f00_0000_0000L + 3;
        assertEquals(64 + 8 - 4 - 3, u32(linked, 3), "S + A - P does not depend on where the layout lands");
        assertEquals(0x7f00_0000_0000L + 64 + 8, u64(linked, 7), "S + A");
        assertEquals(moved.address(message) - 4 - field, (int) u32(linked, 3));
        assertFalse(offsets.isPlaced(new Assembler(Mode.LONG64).section("other", Section.Kind.DATA)));
    }

    @Test
    void aTargetInASectionThatWasNotPlacedIsNamedInTheError() {
        Assembler a = new Assembler(Mode.LONG64);
        a.section("elsewhere", Section.Kind.DATA);
        Label far = a.label("far");
        a.dq(0);
        Section text = a.section("text");
        a.dq(far);

        SectionPlacement p = new SectionPlacement(0x100000);
        p.append(text, 1);
        AsmException e = assertThrows(AsmException.class, () -> p.linked(text));
        assertTrue(e.getMessage().contains("far") && e.getMessage().contains("elsewhere")
                && e.getMessage().contains("not part of the image"), e.getMessage());
        AsmException twice = assertThrows(AsmException.class, () -> p.place(text, 0x200000));
        assertTrue(twice.getMessage().contains("twice"), twice.getMessage());
    }
}
