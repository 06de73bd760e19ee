package dev.jkvm.klib.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.klib.asm.AsmException;
import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Mem;
import dev.jkvm.klib.asm.Mode;
import dev.jkvm.klib.asm.Reg;
import dev.jkvm.klib.asm.Section;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The image file as binutils readelf/objdump read it, plus the multiboot header. */
class ImageBuilderTest {
    private Path file;
    private Label entry;
    private KernelImage image;

    @BeforeEach
    void build() throws Exception {
        Assembler a = new Assembler(Mode.PROTECTED32);
        Label main = new Label("main64");
        Label helper = new Label("helper");
        Label message = new Label("message");
        Label table = new Label("table");
        Label counter = new Label("counter");

        a.section("rodata", Section.Kind.RODATA);
        a.bind(message).asciz("hi");
        a.section("data", Section.Kind.DATA);
        a.align(8).bind(table).dq(main).dd(message, 1);
        a.section("bss", Section.Kind.BSS);
        a.align(8).bind(counter).reserve(8);
        a.section("text", Section.Kind.CODE);
        entry = a.label("entry32");
        a.mov(Reg.EAX, table).jmp(main);
        a.setMode(Mode.LONG64).bind(main);
        a.lea(Reg.RSI, Mem.rip(message)).inc(Mem.rip(counter).m64()).call(helper).ret();

        Assembler second = new Assembler(Mode.LONG64);
        second.section("text2", Section.Kind.CODE);
        second.bind(helper).mov(Reg.RAX, Mem.abs(table).m64()).ret();

        image = new ImageBuilder().add(a).add(second).entry(entry).build();
        file = Files.createTempFile("kernel-image", ".elf");
        image.writeTo(file);
    }

    @AfterEach
    void cleanUp() throws Exception {
        Files.deleteIfExists(file);
    }

    private String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", command) + " failed:\n" + out);
        return out;
    }

    @Test
    void readelfSeesAnElf32I386ExecutableWithPageAlignedLoadSegments() throws Exception {
        String header = run("readelf", "-hW", file.toString());
        assertTrue(header.contains("ELF32"), header);
        assertTrue(header.contains("Intel 80386"), header);
        assertTrue(header.contains("EXEC"), header);
        assertTrue(header.contains("Entry point address:               0x" + Long.toHexString(image.entryPoint())), header);
        assertEquals(image.symbols().get("entry32"), image.entryPoint());

        String segments = run("readelf", "-lW", file.toString());
        Pattern load = Pattern.compile("LOAD\\s+0x(\\p{XDigit}+) 0x(\\p{XDigit}+) 0x\\p{XDigit}+ 0x(\\p{XDigit}+) 0x(\\p{XDigit}+) (.{3})");
        Matcher m = load.matcher(segments);
        List<String> flags = new ArrayList<>();
        while (m.find()) {
            long offset = Long.parseLong(m.group(1), 16);
            long vaddr = Long.parseLong(m.group(2), 16);
            assertEquals(0, vaddr % 4096, "segment at 0x" + Long.toHexString(vaddr) + " is page aligned");
            assertEquals(vaddr - ImageBuilder.DEFAULT_LOAD_ADDRESS, offset, "file offset mirrors the address");
            flags.add(m.group(5).trim());
        }
        assertEquals(List.of("R", "R E", "R", "RW", "RW"), flags, segments);

        String sections = run("readelf", "-SW", file.toString());
        for (PlacedSection s : image.sections()) {
            assertTrue(sections.matches("(?s).*\\Q" + s.name() + "\\E\\s+\\w+\\s+0*" + Long.toHexString(s.address()) + " .*"),
                    s + " in\n" + sections);
        }
        assertEquals(0x101000, image.sections().getFirst().address(), "text starts one page above 1 MiB");
    }

    @Test
    void readelfListsEverySymbolAtItsAddress() throws Exception {
        String table = run("readelf", "-sW", file.toString());
        Map<String, Long> seen = new HashMap<>();
        Matcher m = Pattern.compile("\\d+: (\\p{XDigit}{8})\\s+\\d+ (FUNC|OBJECT)\\s+GLOBAL\\s+DEFAULT\\s+\\d+ (\\S+)").matcher(table);
        while (m.find()) {
            seen.put(m.group(3), Long.parseLong(m.group(1), 16));
        }
        assertEquals(image.symbols(), seen);
        assertEquals(6, seen.size());
        assertEquals("helper+0x3", image.symbolize(image.symbols().get("helper") + 3));
    }

    @Test
    void objdumpResolvesCrossSectionReferencesToTheirSymbols() throws Exception {
        String text = run("objdump", "-d", "-m", "i386:x86-64", "--section=.text", file.toString());
        assertTrue(text.contains("<message>"), "lea rsi, [rip+message] points at message:\n" + text);
        assertTrue(text.contains("<counter>"), "inc qword [rip+counter] points at counter:\n" + text);
        assertTrue(text.contains("<helper>"), "call helper reaches the second assembler's section:\n" + text);
        assertTrue(text.contains("<main64>"), "jmp main64:\n" + text);

        byte[] bytes = image.bytes();
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int tableAt = (int) (image.symbols().get("table") - image.loadAddress());
        assertEquals(image.symbols().get("main64"), b.getLong(tableAt));
        assertEquals(image.symbols().get("message") + 1, Integer.toUnsignedLong(b.getInt(tableAt + 8)));
    }

    @Test
    void multibootHeaderSitsInTheFirst8KiBWithValidChecksumAndAddressFields() {
        byte[] bytes = image.bytes();
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int at = -1;
        for (int i = 0; i + 32 <= 8192 && i + 32 <= bytes.length; i += 4) {
            if (b.getInt(i) == 0x1BADB002) {
                at = i;
                break;
            }
        }
        assertTrue(at >= 0, "multiboot magic 0x1BADB002 within the first 8192 bytes (Multiboot 0.6.96 §3.1)");
        int flags = b.getInt(at + 4);
        assertEquals(0, b.getInt(at) + flags + b.getInt(at + 8), "magic + flags + checksum == 0 (mod 2^32)");
        assertTrue((flags & (1 << 16)) != 0, "bit 16: address fields valid");
        long headerAddr = Integer.toUnsignedLong(b.getInt(at + 12));
        long loadAddr = Integer.toUnsignedLong(b.getInt(at + 16));
        long loadEnd = Integer.toUnsignedLong(b.getInt(at + 20));
        long bssEnd = Integer.toUnsignedLong(b.getInt(at + 24));
        long entryAddr = Integer.toUnsignedLong(b.getInt(at + 28));
        assertEquals(image.loadAddress(), loadAddr);
        assertEquals(at, headerAddr - loadAddr, "header_addr - load_addr equals the header's file offset (§3.1.3)");
        PlacedSection bss = image.sections().getLast();
        assertEquals(".bss", bss.name());
        assertEquals(bss.address() + bss.size(), bssEnd);
        PlacedSection data = image.sections().get(image.sections().size() - 2);
        assertEquals(data.address() + data.size(), loadEnd, "load_end_addr is the end of the last initialised section");
        assertTrue(loadEnd <= bss.address(), "bss lies in the zero-filled part between load_end_addr and bss_end_addr");
        assertTrue(bytes.length >= loadEnd - loadAddr, "file holds everything up to load_end_addr");
        assertEquals(image.entryPoint(), entryAddr);
    }

    @Test
    void missingEntryOrSectionIsAClearError() {
        AsmException noEntry = assertThrows(AsmException.class, () -> new ImageBuilder().build());
        assertTrue(noEntry.getMessage().contains("entry"), noEntry.getMessage());

        Assembler a = new Assembler(Mode.LONG64);
        a.section("elsewhere", Section.Kind.DATA);
        Label data = a.label("data");
        a.dq(1);
        a.section("text");
        Label start = a.label("start");
        a.lea(Reg.RAX, Mem.rip(data));
        AsmException missing = assertThrows(AsmException.class,
                () -> new ImageBuilder().add(a.currentSection()).entry(start).build());
        assertTrue(missing.getMessage().contains("elsewhere") && missing.getMessage().contains("not part of the image"),
                missing.getMessage());
    }

    @Test
    void sizeReportNamesEverySection() {
        String report = image.sizeReport();
        for (String name : List.of(".text", ".rodata", ".data", ".bss", "entry 0x")) {
            assertTrue(report.contains(name), report);
        }
    }
}
