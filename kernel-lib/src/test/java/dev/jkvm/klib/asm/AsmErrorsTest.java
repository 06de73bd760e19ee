package dev.jkvm.klib.asm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

/** Invalid instructions are refused with one clear line naming the instruction and the fix. */
class AsmErrorsTest {

    private static String error(Mode mode, Consumer<Assembler> code) {
        Assembler a = new Assembler(mode);
        AsmException e = assertThrows(AsmException.class, () -> code.accept(a));
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    private static void assertContains(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "'" + message + "' should mention '" + p + "'");
        }
    }

    @Test
    void operandSizeMismatch() {
        assertContains(error(Mode.LONG64, a -> a.mov(Reg.RAX, Reg.ECX)), "operand size mismatch in mov rax, ecx");
        assertContains(error(Mode.LONG64, a -> a.add(Reg.EAX, Mem.at(Reg.RBX).m64())), "operand size mismatch", "add eax");
    }

    @Test
    void highByteRegistersCannotMeetRex() {
        assertContains(error(Mode.LONG64, a -> a.mov(Reg.AH, Reg.R8B)), "ah", "REX", "mov ah, r8b");
        assertContains(error(Mode.LONG64, a -> a.movzx(Reg.RAX, Reg.BH)), "bh", "REX");
        assertContains(error(Mode.LONG64, a -> a.mov(Mem.at(Reg.R9).m8(), Reg.CH)), "ch", "REX");
    }

    @Test
    void longModeOnlyRegistersOutsideLongMode() {
        assertContains(error(Mode.PROTECTED32, a -> a.mov(Reg.RAX, 1)), "rax", "64-bit mode");
        assertContains(error(Mode.REAL16, a -> a.inc(Reg.R8W)), "r8w", "64-bit mode");
        assertContains(error(Mode.PROTECTED32, a -> a.mov(Reg.SIL, Reg.AL)), "sil", "64-bit mode");
        assertContains(error(Mode.PROTECTED32, a -> a.lea(Reg.EAX, Mem.rip(new Label()))), "RIP-relative");
    }

    @Test
    void unknownMemorySize() {
        assertContains(error(Mode.LONG64, a -> a.mov(Mem.at(Reg.RAX), 5)), "operand size unknown", ".m32()");
        assertContains(error(Mode.LONG64, a -> a.movzx(Reg.EAX, Mem.at(Reg.RAX))), "size", ".m8()");
    }

    @Test
    void immediatesOutOfRange() {
        assertContains(error(Mode.LONG64, a -> a.add(Reg.RAX, 0x1_0000_0000L)), "sign-extended 32-bit");
        assertContains(error(Mode.LONG64, a -> a.mov(Reg.AL, 300)), "300", "8 bits");
        assertContains(error(Mode.LONG64, a -> a.out(0x3F8, Reg.AL)), "exceeds 255", "dx");
    }

    @Test
    void invalidOperandCombinations() {
        assertContains(error(Mode.LONG64, a -> a.lock().mov(Mem.at(Reg.RAX).m32(), Reg.EAX)), "lock");
        assertContains(error(Mode.LONG64, a -> a.lock().add(Reg.EAX, Reg.EBX)), "lock");
        assertContains(error(Mode.LONG64, a -> a.shl(Reg.EAX, Reg.DL)), "CL");
        assertContains(error(Mode.LONG64, a -> a.rep().add(Reg.EAX, Reg.EBX)), "rep prefix", "add eax, ebx");
        assertContains(error(Mode.LONG64, a -> a.lock().jmp(new Label())), "lock/rep prefix cannot precede jmp");
        assertContains(error(Mode.LONG64, a -> a.push(Reg.EAX)), "push");
        assertContains(error(Mode.LONG64, a -> a.in(Reg.EBX, 0x60)), "al, ax or eax");
        assertContains(error(Mode.LONG64, a -> a.mov(SegReg.CS, Reg.AX)), "far jump");
        assertContains(error(Mode.LONG64, a -> a.jmpFar(8, 0x1000)), "64-bit mode");
        assertContains(error(Mode.LONG64, a -> a.mov(Reg.EAX, CtrlReg.CR0)), "64-bit registers");
        assertContains(error(Mode.REAL16, a -> a.mov(Reg.AX, Mem.at(Reg.AX))), "[bx|bp] + [si|di]");
        assertContains(error(Mode.LONG64, a -> a.nop(16)), "1 to 15");
    }

    @Test
    void badMemoryOperands() {
        AsmException e = assertThrows(AsmException.class, () -> Mem.at(Reg.RAX).index(Reg.RSP, 2));
        assertContains(e.getMessage(), "rsp", "index");
        e = assertThrows(AsmException.class, () -> Mem.at(Reg.RAX).index(Reg.RCX, 3));
        assertContains(e.getMessage(), "scale 3");
        assertEquals("qword ptr fs:[r8+r9*8-0x10]", Mem.at(Reg.R8).index(Reg.R9, 8).disp(-16).seg(SegReg.FS).m64().toString());
    }
}
