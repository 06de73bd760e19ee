package dev.jkvm.vmm.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Plain C floating-point code (fpkernel.c: series, square roots, float loops, vectorisable array
 * loops, double/float/integer conversions, all four rounding modes, FTZ and DAZ) compiled by gcc at
 * -O2 and -O3 into position-independent bytes, run as one call on the host processor and on the
 * emulated CPU: the eight 64-bit results it stores must be identical.
 */
class GccFloatTest {
    private static final Path DIR = Path.of("target", "gcc-float");

    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(DIR.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), () -> String.join(" ", command) + " failed:\n" + out);
        return out;
    }

    private static boolean gccAvailable() {
        try {
            return new ProcessBuilder("gcc", "--version").start().waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** The kernel function's bytes, entry at offset 0 (the linker script puts .text.kernel first). */
    private static byte[] compile(String level) throws IOException, InterruptedException {
        Files.createDirectories(DIR);
        try (InputStream in = GccFloatTest.class.getResourceAsStream("fpkernel.c")) {
            Files.write(DIR.resolve("fpkernel.c"), in.readAllBytes());
        }
        Files.writeString(DIR.resolve("fp.ld"), "SECTIONS { . = 0; .text : { *(.text.kernel) *(.text*) *(.rodata*) *(.data*) *(.bss*) }"
                + " /DISCARD/ : { *(.eh_frame) *(.note*) *(.comment) } }\n");
        run("gcc", "-" + level, "-fpie", "-ffreestanding", "-fno-stack-protector", "-fno-asynchronous-unwind-tables",
                "-fno-math-errno", "-ffunction-sections", "-c", "fpkernel.c", "-o", "fp" + level + ".o");
        run("ld", "-N", "-e", "kernel", "-T", "fp.ld", "--oformat", "binary", "-o", "fp" + level + ".bin", "fp" + level + ".o");
        return Files.readAllBytes(DIR.resolve("fp" + level + ".bin"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"O2", "O3"})
    void gccFloatingPointCodeGivesTheHostProcessorsResults(String level) throws Exception {
        assumeTrue(System.getProperty("os.arch").equals("amd64"), "needs an x86-64 host");
        assumeTrue(gccAvailable(), "needs gcc");
        byte[] body = compile(level);
        HexFormat hex = HexFormat.of();
        // lea rdi, [r15+0x200] (the data window); sub rsp, 8 (ABI alignment); call body; jmp over it; body; add rsp, 8.
        ByteArrayOutputStream seq = new ByteArrayOutputStream();
        // The body starts 16-byte aligned in the page (gcc aligns its .rodata constants for MOVAPD/MOVDQA).
        int header = 7 + 4 + 5 + 5;
        int pad = Math.floorMod(-(HostCpu.instructionOffset() + header), 16);
        seq.writeBytes(hex.parseHex("498dbf00020000" + "4883ec08"));
        seq.write(0xE8);
        for (int i = 0; i < 4; i++) seq.write((5 + pad) >>> 8 * i);
        seq.write(0xE9);
        for (int i = 0; i < 4; i++) seq.write((pad + body.length) >>> 8 * i);
        for (int i = 0; i < pad; i++) seq.write(0x90);
        seq.writeBytes(body);
        seq.writeBytes(hex.parseHex("4883c408"));
        byte[] code = seq.toByteArray();

        byte[] expected;
        try (HostCpu host = new HostCpu()) {
            host.setData(new byte[HostCpu.DATA_SIZE]);
            host.run(code, new long[16], 0x202, new long[16]);
            expected = host.data();
        }

        IsaMachine m = new IsaMachine(Decoder.MODE64);
        m.s.gpr[15] = IsaMachine.DATA - 0x200;
        m.s.gpr[CpuState.RSP] = IsaMachine.STACK - 8; // as in the host thunk: RSP ≡ 8 (mod 16) before the header's SUB
        long t0 = System.nanoTime();
        // The same page offset as on the host: NOPs in front (CODE is page aligned).
        m.run("90".repeat(HostCpu.instructionOffset()) + hex.formatHex(code));
        long ns = System.nanoTime() - t0;
        byte[] ours = new byte[HostCpu.DATA_SIZE];
        for (int i = 0; i < ours.length; i++) ours[i] = (byte) m.mem(IsaMachine.DATA + i, 1);
        System.out.printf("gcc -%s float kernel (%d bytes): %s on both (emulated %.1f ms)%n", level, body.length,
                hex.formatHex(expected), ns / 1e6);
        assertArrayEquals(expected, ours, () -> "host " + hex.formatHex(expected) + "\nours " + hex.formatHex(ours));
    }
}
