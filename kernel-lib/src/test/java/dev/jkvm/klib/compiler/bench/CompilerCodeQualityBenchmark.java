package dev.jkvm.klib.compiler.bench;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.asm.SectionPlacement;
import dev.jkvm.klib.compiler.CompiledUnit;
import dev.jkvm.klib.compiler.JavaSubsetCompiler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Code-quality benchmark (run with -Dtest=CompilerCodeQualityBenchmark -Dklib.bench=true): the routines of BenchRoutines compiled by
 * our compiler and the same routines in C compiled by gcc -O2 run in one C driver under
 * valgrind's callgrind, which counts the instructions each call executes. Prints the ratio
 * ours/gcc per routine; asserts nothing about it (speed is reported, not tested).
 */
@EnabledIfSystemProperty(named = "klib.bench", matches = "true")
class CompilerCodeQualityBenchmark {
    private static final long IMAGE_BASE = 0x10000000L;
    private static final String[] ROUTINES = {"copyWords", "checksum", "walkList", "queueRound", "firstZeroBit"};

    private static final String C_ROUTINES = """
            #include <stdint.h>
            static const int NEXT[16] = {3, 7, -1, 5, 2, 9, 0, 11, 4, 6, 1, 8, 10, 14, 15, 13};
            static const int VALUE[16] = {5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597, 2584, 4181, 6765};
            static int queue_head, queue_tail;
            __attribute__((noinline)) void c_copyWords(int64_t *dst, const int64_t *src, int n) {
                for (int i = 0; i < n; i++) dst[i] = src[i];
            }
            __attribute__((noinline)) int c_checksum(const int8_t *p, int n) {
                uint32_t sum = 0;
                for (int i = 0; i < n; i++) sum = ((sum << 1) | (sum >> 31)) + (uint8_t) p[i];
                return (int) sum;
            }
            __attribute__((noinline)) int c_walkList(int head) {
                int sum = 0;
                for (int i = head; i >= 0; i = NEXT[i]) sum += VALUE[i];
                return sum;
            }
            __attribute__((noinline)) int c_push(int32_t *base, int v) {
                if (queue_tail - queue_head == 64) return 0;
                base[queue_tail & 63] = v;
                queue_tail++;
                return 1;
            }
            __attribute__((noinline)) int c_pop(int32_t *base) {
                if (queue_head == queue_tail) return -1;
                int v = base[queue_head & 63];
                queue_head++;
                return v;
            }
            __attribute__((noinline)) int c_queueRound(int32_t *base, int n) {
                int sum = 0;
                for (int i = 0; i < n; i++) { c_push(base, i); c_push(base, i * 3); sum += c_pop(base); }
                return sum;
            }
            __attribute__((noinline)) int c_firstZeroBit(const int64_t *bitmap, int words) {
                for (int i = 0; i < words; i++) {
                    int64_t w = bitmap[i];
                    if (w != -1) {
                        uint64_t free = ~w & (w + 1);
                        int bit = 0;
                        while ((free & 1) == 0) { free >>= 1; bit++; }
                        return i * 64 + bit;
                    }
                }
                return -1;
            }
            """;

    private static final String DRIVER = """
            #include <stdint.h>
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>
            #include <sys/mman.h>
            #include <valgrind/callgrind.h>
            #include "offsets.h"
            void c_copyWords(int64_t *, const int64_t *, int);
            int c_checksum(const int8_t *, int);
            int c_walkList(int);
            int c_queueRound(int32_t *, int);
            int c_firstZeroBit(const int64_t *, int);
            static int64_t src[256], dst[256], bitmap[64];
            static int8_t bytes[1024];
            static int32_t queue[64];
            int main(int argc, char **argv) {
                FILE *f = fopen(argv[1], "rb");
                char *image = mmap((void *) IMAGE_BASE, IMAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
                if (image == MAP_FAILED || fread(image, 1, IMAGE_SIZE, f) != IMAGE_SIZE) { perror("image"); return 1; }
                for (int i = 0; i < 256; i++) src[i] = i * 0x9E3779B97F4A7C15LL;
                for (int i = 0; i < 1024; i++) bytes[i] = (int8_t) (i * 37);
                for (int i = 0; i < 64; i++) bitmap[i] = -1;
                bitmap[50] = 0x00FFFFFFFFFFFFFFLL;
                void (*j_copyWords)(int64_t *, const int64_t *, int) = (void *) (IMAGE_BASE + OFF_copyWords);
                int (*j_checksum)(const int8_t *, int) = (void *) (IMAGE_BASE + OFF_checksum);
                int (*j_walkList)(int) = (void *) (IMAGE_BASE + OFF_walkList);
                int (*j_queueRound)(int32_t *, int) = (void *) (IMAGE_BASE + OFF_queueRound);
                int (*j_firstZeroBit)(const int64_t *, int) = (void *) (IMAGE_BASE + OFF_firstZeroBit);
                long r1, r2;
            #define MEASURE(name, ours, theirs) \\
                CALLGRIND_ZERO_STATS; r1 = (long) ours; CALLGRIND_DUMP_STATS_AT("ours " name); \\
                CALLGRIND_ZERO_STATS; r2 = (long) theirs; CALLGRIND_DUMP_STATS_AT("gcc " name); \\
                if (r1 != r2) { printf("MISMATCH %s %ld %ld\\n", name, r1, r2); }
                MEASURE("copyWords", (j_copyWords(dst, src, 256), dst[255]), (c_copyWords(dst, src, 256), dst[255]));
                MEASURE("checksum", j_checksum(bytes, 1024), c_checksum(bytes, 1024));
                MEASURE("walkList", j_walkList(12), c_walkList(12));
                MEASURE("queueRound", j_queueRound(queue, 20), c_queueRound(queue, 20));
                MEASURE("firstZeroBit", j_firstZeroBit(bitmap, 64), c_firstZeroBit(bitmap, 64));
                return 0;
            }
            """;

    @Test
    void instructionCountsAgainstGcc() throws Exception {
        CompiledUnit unit = new JavaSubsetCompiler(getClass().getClassLoader())
                .addClass(BenchRoutines.class).compile();
        Assembler a = unit.assembler();
        a.section("stubs", Section.Kind.CODE);
        for (Label external : unit.externals().values()) {
            a.bind(external);
            a.ud2();
        }
        Path dir = Files.createTempDirectory("klib-bench");
        SectionPlacement offsets = new SectionPlacement(0);
        for (Section s : a.sections()) {
            offsets.append(s, 64);
        }
        long size = SectionPlacement.alignUp(offsets.end(), 4096);
        SectionPlacement placement = offsets.movedBy(IMAGE_BASE);
        byte[] image = new byte[(int) size];
        for (Section s : a.sections()) {
            byte[] bytes = placement.linked(s);
            System.arraycopy(bytes, 0, image, (int) offsets.address(s), bytes.length);
        }
        Files.write(dir.resolve("image.bin"), image);
        StringBuilder header = new StringBuilder("#define IMAGE_BASE 0x" + Long.toHexString(IMAGE_BASE) + "L\n");
        header.append("#define IMAGE_SIZE ").append(size).append("\n");
        Section text = unit.text();
        for (String routine : ROUTINES) {
            Label label = unit.methods().entrySet().stream()
                    .filter(e -> e.getKey().name().equals(routine)).findFirst().orElseThrow().getValue();
            header.append("#define OFF_").append(routine).append(" ").append(offsets.address(text) + label.offset())
                    .append("\n");
        }
        Files.writeString(dir.resolve("offsets.h"), header);
        Files.writeString(dir.resolve("routines.c"), C_ROUTINES);
        Files.writeString(dir.resolve("driver.c"), DRIVER);
        run(dir, "gcc", "-O2", "-c", "routines.c", "-o", "routines.o");
        run(dir, "gcc", "-O0", "-I.", "driver.c", "routines.o", "-o", "driver");
        String out = run(dir, "valgrind", "--tool=callgrind", "--callgrind-out-file=" + dir.resolve("cg.out"),
                "./driver", "image.bin");
        if (out.contains("MISMATCH")) {
            throw new AssertionError("compiled and C routines disagree:\n" + out);
        }
        Map<String, Long> counts = new HashMap<>();
        try (var files = Files.list(dir)) {
            for (Path p : files.filter(p -> p.getFileName().toString().startsWith("cg.out")).toList()) {
                String content = Files.readString(p);
                Matcher trigger = Pattern.compile("desc: Trigger: Client Request: (\\S+ \\S+)").matcher(content);
                Matcher totals = Pattern.compile("(?m)^(?:summary|totals): (\\d+)").matcher(content);
                if (trigger.find() && totals.find()) {
                    counts.put(trigger.group(1), Long.parseLong(totals.group(1)));
                }
            }
        }
        List<String> report = new ArrayList<>();
        report.add(String.format("%-14s %12s %12s %8s", "routine", "ours", "gcc -O2", "ratio"));
        for (String routine : ROUTINES) {
            long ours = counts.getOrDefault("ours " + routine, -1L);
            long gcc = counts.getOrDefault("gcc " + routine, -1L);
            report.add(String.format("%-14s %12d %12d %8.2f", routine, ours, gcc, (double) ours / gcc));
        }
        String table = String.join("\n", report);
        System.out.println(table);
        Files.writeString(Path.of("target/compiler-benchmark.txt"), table + "\n");
    }

    private static String run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new AssertionError(String.join(" ", command) + " failed:\n" + out);
        }
        return out;
    }
}
