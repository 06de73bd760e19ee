package dev.jkvm.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Both recipes give what a multiboot loader takes: an ELF32 i386 file (System V ABI "ELF Header":
 * EI_CLASS at 4 is 1, e_machine at 18 is 3, e_entry at 24) whose Multiboot 0.6.96 header (§3.1:
 * magic 0x1BADB002, flags, checksum summing to 0, 4-byte aligned) lies in its first 8 KiB.
 */
class GnuToolchainTest {
    @Test
    void inlineSourceBecomesAnElf32MultibootKernelEnteringAtItsText() {
        ByteBuffer elf = le(GnuToolchain.multibootElf("hlt\n"));
        assertElf32Multiboot(elf);
        assertEquals(GnuToolchain.LOAD_ADDRESS + 0x10, Integer.toUnsignedLong(elf.getInt(24)), "e_entry: _start, 16 bytes in");
    }

    @Test
    void preprocessedFileIsLinkedAtOneMebibyteWithItsHeaderFirst(@TempDir Path dir) throws IOException {
        Path source = Files.writeString(dir.resolve("tiny.S"), """
                #define MAGIC 0x1BADB002
                    .section .multiboot, "a"
                    .balign 4
                    .long MAGIC, 0, -MAGIC
                    .text
                    .code32
                    .globl _start
                _start:
                    hlt
                """);
        Path elf = new GnuToolchain(dir.resolve("out")).multibootKernel(source, "tiny");
        ByteBuffer b = le(Files.readAllBytes(elf));
        assertElf32Multiboot(b);
        long entry = Integer.toUnsignedLong(b.getInt(24));
        assertTrue(entry >= GnuToolchain.LOAD_ADDRESS && entry < GnuToolchain.LOAD_ADDRESS + 0x1000, "e_entry 0x" + Long.toHexString(entry));
    }

    @Test
    void aFailingToolNamesItsCommandAndOutput(@TempDir Path dir) {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new GnuToolchain(dir).assemble("bad", "this is not an instruction\n", true));
        assertTrue(e.getMessage().startsWith("as --64 bad.s -o bad.o failed (exit 1):"), e.getMessage());
        assertTrue(e.getMessage().contains("bad.s:1"), e.getMessage());
    }

    private static void assertElf32Multiboot(ByteBuffer elf) {
        assertEquals(0x464C457F, elf.getInt(0), "ELF magic");
        assertEquals(1, elf.get(4), "EI_CLASS: ELFCLASS32");
        assertEquals(3, elf.getShort(18), "e_machine: EM_386");
        int limit = Math.min(elf.capacity(), 8192) - 12;
        for (int at = 0; at <= limit; at += 4) {
            if (elf.getInt(at) == 0x1BADB002) {
                assertEquals(0, elf.getInt(at) + elf.getInt(at + 4) + elf.getInt(at + 8), "checksum");
                return;
            }
        }
        throw new AssertionError("no multiboot header in the first 8 KiB");
    }

    private static ByteBuffer le(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
}
