package dev.jkvm.klib.asm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Labels, forward references, layout relaxation, symbols and relocations. */
class LabelsAndRelocationsTest {

    private static long u32(byte[] b, int at) {
        return Integer.toUnsignedLong(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(at));
    }

    private static long u64(byte[] b, int at) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(at);
    }

    @Test
    void forwardJumpGrowsToNearWhenTheTargetMovesOutOfRange() {
        Assembler a = new Assembler(Mode.LONG64);
        Label end = new Label("end");
        a.jmp(end);
        a.db(new byte[127]);
        a.bind(end);
        assertEquals(2 + 127, end.offset(), "short jmp reaches 127 bytes ahead");

        Assembler b = new Assembler(Mode.LONG64);
        Label far = new Label("far");
        b.jmp(far).db(new byte[128]).bind(far);
        assertEquals(5 + 128, far.offset(), "one byte further needs the 5-byte near form");
        byte[] code = b.currentSection().bytes();
        assertEquals(0xE9, code[0] & 0xFF);
        assertEquals(128, u32(code, 1));
    }

    @Test
    void labelsResolveToTheSameBytesWhatEverTheBindingOrder() {
        Assembler forward = new Assembler(Mode.LONG64);
        Label f = new Label();
        forward.jcc(Cond.E, f).mov(Reg.EAX, 1).bind(f).ret();

        Assembler backward = new Assembler(Mode.LONG64);
        Label top = new Label();
        backward.bind(top).mov(Reg.EAX, 1).jcc(Cond.E, top);

        byte[] fw = forward.currentSection().bytes();
        assertEquals(0x74, fw[0] & 0xFF);
        assertEquals(5, fw[1], "je skips the 5-byte mov");
        byte[] bw = backward.currentSection().bytes();
        assertEquals(0x74, bw[5] & 0xFF);
        assertEquals(-7, bw[6], "je goes back over itself and the mov");
    }

    @Test
    void layoutIsDeterministic() {
        byte[] first = program().currentSection().bytes();
        byte[] second = program().currentSection().bytes();
        assertArrayEquals(first, second);
    }

    private static Assembler program() {
        Assembler a = new Assembler(Mode.LONG64);
        Label[] labels = new Label[20];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = new Label();
        }
        for (int i = 0; i < labels.length; i++) {
            a.jcc(Cond.values()[i % 16], labels[(i * 7) % labels.length]).db(new byte[i * 5]).align(8);
            a.bind(labels[i]);
        }
        return a;
    }

    @Test
    void absoluteReferencesBecomeRelocationsAndLinkAtPatchesThem() {
        Assembler a = new Assembler(Mode.PROTECTED32);
        Label data = new Label("data");
        a.mov(Reg.EAX, data);            // B8 imm32: field at offset 1
        a.mov(Reg.EBX, Mem.abs(data));   // 8B 1D disp32: field at offset 7
        a.dd(data, 4);                   // at offset 11
        a.bind(data).dd(0x11223344L);    // data at offset 15

        Section text = a.currentSection();
        List<Relocation> relocations = text.relocations();
        assertEquals(3, relocations.size());
        assertEquals(List.of(1L, 7L, 11L), relocations.stream().map(Relocation::offset).toList());
        assertTrue(relocations.stream().allMatch(r -> r.kind() == Relocation.Kind.ABS32 && r.target() == data));

        byte[] linked = text.linkAt(0x100000);
        assertEquals(0x100000 + 15, u32(linked, 1));
        assertEquals(0x100000 + 15, u32(linked, 7));
        assertEquals(0x100000 + 15 + 4, u32(linked, 11));
        assertEquals(0x11223344L, u32(linked, 15));
    }

    @Test
    void crossSectionReferencesStayRelocationsWithElfStyleAddends() {
        Assembler a = new Assembler(Mode.LONG64);
        Section rodata = a.section("rodata", Section.Kind.RODATA);
        Label message = a.label("message");
        a.asciz("hi");
        Section text = a.section("text");
        Label entry = a.label("entry");
        a.lea(Reg.RSI, Mem.rip(message));          // 48 8D 35 disp32: field at 3, instruction ends at 7
        a.cmp(Mem.rip(message).disp(1).m8(), 0x68); // 80 3D disp32 imm8: field at 9, ends at 14
        a.dq(message);

        List<Relocation> relocations = text.relocations();
        assertEquals(new Relocation(3, Relocation.Kind.PC32, message, -4), relocations.get(0));
        assertEquals(new Relocation(9, Relocation.Kind.PC32, message, 1 - 5), relocations.get(1));
        assertEquals(new Relocation(14, Relocation.Kind.ABS64, message, 0), relocations.get(2));
        assertEquals(0, entry.offset());
        assertSame(rodata, message.section());
        assertEquals(List.of("entry"), List.copyOf(text.symbols().keySet()));

        AsmException e = assertThrows(AsmException.class, () -> text.linkAt(0x1000));
        assertTrue(e.getMessage().contains("message") && e.getMessage().contains("rodata"), e.getMessage());

        byte[] image = text.bytes();
        relocations.get(0).apply(image, 3, 0x1000 + 3, 0x5000);
        assertEquals(0x5000 - 4 - 0x1003, u32(image, 3), "S + A - P");
        relocations.get(2).apply(image, 14, 0x1000 + 14, 0xFFFF_FFFF_8000_0000L);
        assertEquals(0xFFFF_FFFF_8000_0000L, u64(image, 14));
    }

    @Test
    void jumpsToAnotherSectionAreAlwaysNear() {
        Assembler a = new Assembler(Mode.LONG64);
        a.section("other", Section.Kind.CODE);
        Label there = a.label("there");
        a.ret();
        Section text = a.section("text");
        a.jmp(there).jcc(Cond.NE, there);
        byte[] code = text.bytes();
        assertEquals(5 + 6, code.length);
        assertEquals(new Relocation(1, Relocation.Kind.PC32, there, -4), text.relocations().get(0));
        assertEquals(new Relocation(7, Relocation.Kind.PC32, there, -4), text.relocations().get(1));
    }

    @Test
    void modeCanChangeInsideASection() {
        Assembler a = new Assembler(Mode.PROTECTED32);
        Label longMode = new Label();
        a.jmpFar(0x08, longMode, 32);
        a.setMode(Mode.LONG64).bind(longMode).mov(Reg.RAX, Reg.RBX);
        byte[] code = a.currentSection().linkAt(0x200000);
        assertEquals(0xEA, code[0] & 0xFF);
        assertEquals(0x200000 + 7, u32(code, 1));
        assertEquals(0x08, code[5]);
        assertArrayEquals(new byte[] {0x48, (byte) 0x89, (byte) 0xD8}, java.util.Arrays.copyOfRange(code, 7, 10));
    }

    @Test
    void bssReservesSpaceWithoutBytes() {
        Assembler a = new Assembler(Mode.LONG64);
        Section bss = a.section("bss", Section.Kind.BSS);
        a.align(4096);
        Label stack = a.label("stack");
        a.reserve(16384);
        Label top = a.label("stack_top");
        assertEquals(0, stack.offset());
        assertEquals(16384, top.offset());
        assertEquals(16384, bss.size());
        AsmException e = assertThrows(AsmException.class, () -> a.db(1));
        assertTrue(e.getMessage().contains("bss"), e.getMessage());
    }

    @Test
    void unboundDuplicateAndDoubleBoundLabelsAreReported() {
        Assembler a = new Assembler(Mode.LONG64);
        Label nowhere = new Label("nowhere");
        a.jmp(nowhere);
        AsmException unbound = assertThrows(AsmException.class, () -> a.currentSection().bytes());
        assertTrue(unbound.getMessage().contains("nowhere") && unbound.getMessage().contains("never bound"),
                unbound.getMessage());

        Assembler b = new Assembler(Mode.LONG64);
        Label once = new Label("once");
        b.bind(once);
        AsmException twice = assertThrows(AsmException.class, () -> b.bind(once));
        assertTrue(twice.getMessage().contains("bound twice"), twice.getMessage());
        b.label("dup");
        AsmException dup = assertThrows(AsmException.class, () -> b.label("dup"));
        assertTrue(dup.getMessage().contains("dup") && dup.getMessage().contains("twice"), dup.getMessage());
    }

    @Test
    void relocationRangeIsChecked() {
        Label l = new Label("target");
        Relocation abs32 = new Relocation(0, Relocation.Kind.ABS32, l, 0);
        AsmException e = assertThrows(AsmException.class, () -> abs32.apply(new byte[4], 0, 0, 0x1_0000_0000L));
        assertTrue(e.getMessage().contains("target"), e.getMessage());
        Relocation abs32s = new Relocation(0, Relocation.Kind.ABS32S, l, 0);
        abs32s.apply(new byte[4], 0, 0, 0x7FFF_FFFFL);
        AsmException s = assertThrows(AsmException.class, () -> abs32s.apply(new byte[4], 0, 0, 0x8000_0000L));
        assertTrue(s.getMessage().contains("sign-extended"), s.getMessage());
        Relocation pc32 = new Relocation(0, Relocation.Kind.PC32, l, -4);
        assertThrows(AsmException.class, () -> pc32.apply(new byte[4], 0, 0, 0x9000_0000L));
    }
}
