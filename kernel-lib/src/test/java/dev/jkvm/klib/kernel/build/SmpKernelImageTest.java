package dev.jkvm.klib.kernel.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.klib.image.KernelImage;
import dev.jkvm.klib.kernel.cpu.PerCpuVariables;
import dev.jkvm.klib.kernel.mm.KernelLayout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The SMP kernel image as built: every runtime symbol bound (build() refuses otherwise), the
 * layout table the kernel reads agrees with the symbol table, and binutils' readelf accepts the
 * file as an ELF32 with its entry at multiboot_entry.
 */
class SmpKernelImageTest {

    @Test
    void layoutTableMatchesTheSymbolsAndReadelfAgrees() throws Exception {
        KernelImage image = SmpKernelImage.build();
        var symbols = image.symbols();
        assertEquals(symbols.get("multiboot_entry"), image.entryPoint());
        byte[] file = image.bytes();
        long table = symbols.get("kernel_layout_table");
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        // File offsets mirror addresses past the ELF header page (ImageBuilder's layout).
        long[] entry = new long[KernelLayout.ENTRIES];
        for (int i = 0; i < entry.length; i++) {
            entry[i] = b.getLong((int) (table - image.loadAddress()) + 8 * i);
        }
        assertEquals(image.loadAddress(), entry[KernelLayout.IMAGE_START]);
        assertEquals(symbols.get("kernel_text_end"), entry[KernelLayout.TEXT_END]);
        assertEquals(symbols.get("kernel_rodata_end"), entry[KernelLayout.RODATA_END]);
        assertEquals(symbols.get("kernel_image_end"), entry[KernelLayout.IMAGE_END]);
        assertEquals(symbols.get("kernel_ap_entry"), entry[KernelLayout.AP_ENTRY]);
        assertEquals(symbols.get("trap_stub_table"), entry[KernelLayout.TRAP_STUBS]);
        assertEquals(0, entry[KernelLayout.PER_CPU_TEMPLATE_SIZE] % 64, "per-CPU areas are whole cache lines");
        long stubs = entry[KernelLayout.TRAP_STUBS];
        for (int v : new int[] {0, 14, 255}) {
            assertEquals(symbols.get("trap_stub_" + v), b.getLong((int) (stubs - image.loadAddress()) + 8 * v));
        }

        Path elf = Files.createTempFile("smp", ".elf");
        try {
            image.writeTo(elf);
            Process p = new ProcessBuilder("readelf", "-W", "-h", "-s", elf.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, out);
            assertTrue(out.contains("ELF32"), out);
            assertTrue(out.contains("Entry point address:               0x" + Long.toHexString(image.entryPoint())), out);
            assertTrue(out.contains("dev_jkvm_klib_kernel_Kernel__main"), "compiled methods are in the symbol table");
        } finally {
            Files.deleteIfExists(elf);
        }
    }

    /**
     * The per-CPU accessor routines, disassembled by binutils' objdump: each is one GS-relative
     * instruction and a return, so that an add cannot be split by an interrupt on the same CPU.
     */
    @Test
    void perCpuAccessorsAreOneGsRelativeInstruction() throws Exception {
        KernelImage image = SmpKernelImage.build();
        Map<String, String> expected = Map.of(
                PerCpuVariables.READ_SYMBOL, "mov %gs:(%rdi),%rax",
                PerCpuVariables.WRITE_SYMBOL, "mov %rsi,%gs:(%rdi)",
                PerCpuVariables.ADD_SYMBOL, "add %rsi,%gs:(%rdi)");
        for (Map.Entry<String, String> e : expected.entrySet()) {
            long address = image.symbols().get(e.getKey());
            byte[] code = Arrays.copyOfRange(image.bytes(), (int) (address - image.loadAddress()),
                    (int) (address - image.loadAddress()) + 16);
            List<String> instructions = objdump(code);
            assertEquals(e.getValue(), instructions.get(0), e.getKey() + ": " + instructions);
            assertEquals("ret", instructions.get(1), e.getKey() + ": " + instructions);
        }
    }

    private static List<String> objdump(byte[] code) throws Exception {
        Path raw = Files.createTempFile("percpu", ".bin");
        try {
            Files.write(raw, code);
            Process p = new ProcessBuilder("objdump", "-D", "-b", "binary", "-m", "i386:x86-64", raw.toString())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, out);
            List<String> instructions = new ArrayList<>();
            for (String line : out.split("\n")) {
                String[] columns = line.split("\t");
                if (columns.length == 3 && columns[0].trim().matches("[0-9a-f]+:")) {
                    instructions.add(columns[2].trim().replaceAll("\\s+", " "));
                }
            }
            return instructions;
        } finally {
            Files.deleteIfExists(raw);
        }
    }
}
