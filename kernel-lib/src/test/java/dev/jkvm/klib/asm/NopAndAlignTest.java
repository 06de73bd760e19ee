package dev.jkvm.klib.asm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** NOPs of every length and NOP alignment padding, decoded by objdump. */
class NopAndAlignTest {

    private static boolean isNop(String text) {
        return text.contains("nop") || text.equals("xchg   %ax,%ax") || text.equals("xchg   %eax,%eax");
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void everyNopLengthDecodesAsOneNopInstruction(Mode mode) throws Exception {
        Assembler a = new Assembler(mode);
        for (int n = 1; n <= 15; n++) {
            a.nop(n);
        }
        List<ObjdumpDecoder.Instruction> decoded = ObjdumpDecoder.decode(a.currentSection().bytes(), mode);
        assertEquals(15, decoded.size(), () -> "instructions: " + decoded);
        for (int n = 1; n <= 15; n++) {
            ObjdumpDecoder.Instruction insn = decoded.get(n - 1);
            assertEquals(n, insn.length(), "length of nop(" + n + "): " + insn);
            assertTrue(isNop(insn.text()), "nop(" + n + ") decodes as " + insn.text());
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void codeAlignmentPadsWithNopsUpToTheBoundary(Mode mode) throws Exception {
        for (int before = 0; before < 40; before += 3) {
            Assembler a = new Assembler(mode);
            for (int i = 0; i < before; i++) {
                a.int3();
            }
            a.align(32).int3();
            byte[] code = a.currentSection().bytes();
            int expectedEnd = (before + 31) / 32 * 32;
            assertEquals(expectedEnd + 1, code.length, "size after align with " + before + " leading bytes");
            for (ObjdumpDecoder.Instruction insn : ObjdumpDecoder.decode(code, mode)) {
                if (insn.offset() < before || insn.offset() == expectedEnd) {
                    assertEquals("int3", insn.text(), "instruction at " + insn.offset());
                } else {
                    assertTrue(isNop(insn.text()), "padding instruction " + insn);
                    assertTrue(insn.offset() + insn.length() <= expectedEnd, "padding overruns: " + insn);
                }
            }
            assertEquals(32, a.currentSection().alignment(), "alignment raises the section's alignment");
        }
    }
}
