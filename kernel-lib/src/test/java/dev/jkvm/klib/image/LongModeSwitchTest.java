package dev.jkvm.klib.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.image.LongModeSwitch.Value;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The switch as GNU objdump (an independent decoder) reads it: the steps of SDM Vol. 3A §10.8.5
 * in their order, with each caller's parameters in place.
 */
class LongModeSwitchTest {
    private static final long BASE = 0x10000;

    /** The switch linked at BASE, followed by its target in 64-bit code, as objdump's mnemonics and operands. */
    private static List<String> decode(LongModeSwitch boot, Label pml4, Label gdtPointer) throws Exception {
        Assembler a = new Assembler(Mode.PROTECTED32);
        Section s = a.section("text", Section.Kind.CODE);
        boot.emit(a);
        a.setMode(Mode.LONG64);
        a.bind(boot.target()).hlt();
        a.align(8).bind(gdtPointer).dw(0).dd(0);
        a.align(4096).bind(pml4).dq(0);
        Path bin = Files.createTempFile("longmode", ".bin");
        try {
            Files.write(bin, s.linkAt(BASE));
            Process p = new ProcessBuilder("objdump", "-D", "-b", "binary", "-m", "i386",
                    "--adjust-vma=0x" + Long.toHexString(BASE), bin.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, out);
            Matcher m = Pattern.compile("(?m)^\\s+[0-9a-f]+:\\t(?:[0-9a-f]{2} )+\\s*\\t(.*?)\\s*$").matcher(out);
            List<String> lines = new java.util.ArrayList<>();
            while (m.find() && !m.group(1).startsWith("ljmp")) {
                lines.add(m.group(1).replaceAll("\\s+", " "));
            }
            lines.add(m.group(1).replaceAll("\\s+", " "));
            return lines;
        } finally {
            Files.deleteIfExists(bin);
        }
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    @Test
    void bootCpuFormLoadsItsGdtThenPaeCr3LmePagingAndJumpsThroughTheCodeSelector() throws Exception {
        Label pml4 = new Label();
        Label gdtPointer = new Label();
        Label target = new Label();
        List<String> code = decode(LongModeSwitch.boot(gdtPointer, pml4, 0x08, target), pml4, gdtPointer);
        assertEquals(14, code.size(), code::toString);
        assertTrue(code.get(0).matches("lgdtl? 0x[0-9a-f]+"), code::toString);
        assertEquals(List.of("mov %cr4,%eax", "or $0x20,%eax", "mov %eax,%cr4",
                "mov $" + hex(BASE + 0x1000) + ",%eax", "mov %eax,%cr3",
                "mov $0xc0000080,%ecx", "rdmsr", "or $0x100,%eax", "wrmsr",
                "mov %cr0,%eax", "or $0x80000001,%eax", "mov %eax,%cr0"), code.subList(1, 13));
        assertTrue(code.get(13).matches("ljmp \\$0x8,\\$0x[0-9a-f]+"), code::toString);
    }

    @Test
    void trampolineFormReadsItsValuesFromMemorySetsWriteProtectAndLeavesTheGdtAlone() throws Exception {
        Label pml4 = new Label();
        Label gdtPointer = new Label();
        Label target = new Label();
        LongModeSwitch ap = new LongModeSwitch(null, Value.at(Mem.abs(0x8F08)), Value.at(Mem.abs(0x8F00)),
                Value.at(Mem.abs(0x8F10)), true, 0x18, target);
        List<String> code = decode(ap, pml4, gdtPointer);
        assertEquals(List.of("mov %cr4,%eax", "or 0x8f08,%eax", "mov %eax,%cr4",
                "mov 0x8f00,%eax", "mov %eax,%cr3",
                "mov $0xc0000080,%ecx", "rdmsr", "or 0x8f10,%eax", "wrmsr",
                "mov %cr0,%eax", "or $0x80010001,%eax", "mov %eax,%cr0"), code.subList(0, 12));
        assertTrue(code.get(12).matches("ljmp \\$0x18,\\$0x[0-9a-f]+"), code::toString);
    }

    @Test
    void refusesToRunOutsideThirtyTwoBitProtectedMode() {
        Assembler a = new Assembler(Mode.LONG64);
        a.section("text", Section.Kind.CODE);
        LongModeSwitch boot = LongModeSwitch.boot(new Label(), new Label(), 0x08, new Label());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> boot.emit(a));
        assertTrue(e.getMessage().contains("LONG64"), e.getMessage());
    }
}
