package dev.jkvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Kernels built for QEMU's {@code -kernel} load identically here: the same bytes at the same
 * guest-physical addresses and the same entry point, read back from a real QEMU (TCG) that
 * halted on the kernel's first instruction. QEMU refuses ELF64 multiboot kernels, so only ELF32
 * and flat images are compared.
 */
class MultibootQemuCompatibilityTest {

    @BeforeAll
    static void needsQemu() {
        assumeTrue(QemuMultiboot.available(), "qemu-system-x86_64 is not installed");
    }

    private record Case(Path kernel, List<QemuMultiboot.Range> ranges) {}

    private static Case elfCase(Path elf) {
        List<QemuMultiboot.Range> ranges = new ArrayList<>();
        for (Binutils.Segment s : Binutils.loadSegments(elf)) {
            // The ELF-header page ld maps below 1 MiB is the one segment this loader keeps out
            // of the BIOS/ACPI area on purpose (LoadPlan); every other segment must match.
            if (s.offset() == 0 && s.physicalAddress() + s.memorySize() <= 0x100000) continue;
            ranges.add(new QemuMultiboot.Range(s.physicalAddress(), s.memorySize()));
        }
        return new Case(elf, ranges);
    }

    private static Case kludgeCase(boolean loadEndZero, boolean bssEndZero) {
        Map<String, Binutils.NmSymbol> nm = Binutils.nm(MultibootTestKernels.kludgeElf(loadEndZero, bssEndZero, true));
        long start = nm.get("load_start").address();
        long end = nm.get(bssEndZero ? "load_end" : "bss_end").address();
        return new Case(MultibootTestKernels.kludge(loadEndZero, bssEndZero, true), List.of(new QemuMultiboot.Range(start, end - start)));
    }

    private static Case kernel(String which) {
        return switch (which) {
            case "elf32" -> elfCase(MultibootTestKernels.elf32(true));
            case "higher-half" -> elfCase(MultibootTestKernels.higherHalf(true));
            case "a.out-kludge" -> kludgeCase(false, false);
            case "a.out-kludge-load-end-0" -> kludgeCase(true, false);
            case "a.out-kludge-bss-end-0" -> kludgeCase(false, true);
            default -> throw new IllegalArgumentException(which);
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"elf32", "higher-half", "a.out-kludge", "a.out-kludge-load-end-0", "a.out-kludge-bss-end-0"})
    void loadsLikeQemu(String which) throws Exception {
        Case c = kernel(which);
        QemuMultiboot.Snapshot qemu = QemuMultiboot.boot(c.kernel(), c.ranges());
        assertEquals(MultibootLoader.MULTIBOOT_BOOTLOADER_MAGIC, (int) qemu.eax(), "QEMU started the kernel as multiboot");
        try (MarkedRam ram = MarkedRam.mib(64)) {
            BootInfo info = MultibootLoader.load(Binutils.bytes(c.kernel()), ram.memory, "");
            assertEquals(qemu.eip() - 1, info.entry(), "entry: QEMU halted one byte after it");
            for (int i = 0; i < c.ranges().size(); i++) {
                QemuMultiboot.Range r = c.ranges().get(i);
                assertArrayEquals(qemu.ranges().get(i), ram.memory.read(r.address(), (int) r.length()),
                        "guest bytes at 0x" + Long.toHexString(r.address()));
            }
        }
    }

    /** The committed corpus of the loader's fuzz target (KernelLoaderFuzzTest). */
    private static Path corpus() throws URISyntaxException {
        return Path.of(MultibootQemuCompatibilityTest.class.getResource("KernelLoaderFuzzTestInputs/loader").toURI());
    }

    /**
     * Inputs from the fuzz corpus this loader accepts and QEMU can be compared on: ELF32 or
     * a.out-kludge images (QEMU refuses ELF64 multiboot kernels) whose entry instruction is hlt,
     * so QEMU's RAM holds exactly what its loader placed when it stops. At most 8, spread evenly.
     */
    static Stream<String> fuzzCorpusSample() throws IOException, URISyntaxException {
        List<String> usable = new ArrayList<>();
        try (Stream<Path> files = Files.list(corpus()); MarkedRam ram = MarkedRam.mib(64)) {
            for (Path file : files.sorted().toList()) {
                byte[] image = Files.readAllBytes(file);
                if (image.length > 4 && ElfFile.isElf(image) && image[4] == ElfFile.ELFCLASS64) continue;
                try {
                    MultibootLoader.check("fuzz", image, 64 * MarkedRam.MIB);
                    BootInfo info = MultibootLoader.load("fuzz", image, ram.memory, "");
                    if (ram.memory.read8(info.entry()) == (byte) 0xF4) usable.add(file.getFileName().toString());
                } catch (MultibootException refused) {
                    // Refused inputs are the regression corpus's business, not QEMU's.
                }
            }
        }
        int step = Math.max(1, usable.size() / 8);
        List<String> sample = new ArrayList<>();
        for (int i = 0; i < usable.size() && sample.size() < 8; i += step) sample.add(usable.get(i));
        return sample.stream();
    }

    /** What the fuzzer produced and the loader accepts loads as QEMU loads it: same bytes at the same places, same entry. */
    @ParameterizedTest
    @MethodSource("fuzzCorpusSample")
    void fuzzCorpusLoadsLikeQemu(String name) throws Exception {
        Path kernel = corpus().resolve(name);
        byte[] image = Binutils.bytes(kernel);
        LoadPlan plan = LoadPlan.of("fuzz", image, MultibootHeader.find("fuzz", image));
        List<QemuMultiboot.Range> ranges = new ArrayList<>();
        for (LoadSegment s : plan.segments()) ranges.add(new QemuMultiboot.Range(s.address(), s.memorySize()));
        QemuMultiboot.Snapshot qemu = QemuMultiboot.boot(kernel, ranges);
        assertEquals(MultibootLoader.MULTIBOOT_BOOTLOADER_MAGIC, (int) qemu.eax(), "QEMU started the kernel as multiboot");
        try (MarkedRam ram = MarkedRam.mib(64)) {
            BootInfo info = MultibootLoader.load(image, ram.memory, "");
            assertEquals(qemu.eip() - 1, info.entry(), "entry: QEMU halted one byte after it");
            for (int i = 0; i < ranges.size(); i++) {
                QemuMultiboot.Range r = ranges.get(i);
                assertArrayEquals(qemu.ranges().get(i), ram.memory.read(r.address(), (int) r.length()),
                        "guest bytes at 0x" + Long.toHexString(r.address()));
            }
        }
    }
}
