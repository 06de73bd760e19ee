package dev.jkvm.vmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.vcpu.Accelerator;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The launcher's option syntax. The expected messages are the ones the picocli-based launcher
 * printed for the same command lines (recorded before it was replaced), so scripts that match
 * them keep working.
 */
class LauncherOptionsTest {
    private static LauncherOptions parse(String... args) {
        return LauncherOptions.parse(args);
    }

    private static String error(String... args) {
        return assertThrows(OptionError.class, () -> LauncherOptions.parse(args)).getMessage();
    }

    @Test
    void defaults() {
        LauncherOptions o = parse();
        assertEquals(1, o.cpus);
        assertEquals(256L << 20, o.memory);
        assertNull(o.kernel);
        assertEquals("", o.cmdline);
        assertTrue(o.serial.isStdio());
        assertNull(o.timeout);
        assertEquals(List.of(), o.offlineCpus);
        assertEquals(1, o.numaNodes);
        assertEquals(Accelerator.AUTO, o.accel);
        assertFalse(o.traceExits || o.quiet || o.helpRequested || o.versionRequested);
        assertNull(o.report);
    }

    @Test
    void everyOptionWithSeparateAndAttachedValues() {
        LauncherOptions o = parse("--cpus", "4", "--memory=1G", "--kernel", "k.elf", "--cmdline=a b=c", "--serial", "file:/tmp/s",
                "--timeout=1.5", "--offline-cpu", "2", "--offline-cpu=3", "--numa", "2", "--accel=emulated", "--trace-exits",
                "--report", "r.json", "--quiet");
        assertEquals(4, o.cpus);
        assertEquals(1L << 30, o.memory);
        assertEquals(Path.of("k.elf"), o.kernel);
        assertEquals("a b=c", o.cmdline);
        assertEquals(Path.of("/tmp/s"), o.serial.file());
        assertEquals(Duration.ofMillis(1500), o.timeout);
        assertEquals(List.of(2, 3), o.offlineCpus);
        assertEquals(2, o.numaNodes);
        assertEquals(Accelerator.EMULATED, o.accel);
        assertTrue(o.traceExits && o.quiet);
        assertEquals(Path.of("r.json"), o.report);
    }

    @Test
    void valuesThatStartWithADashButAreNoOptionAreValues() {
        assertEquals(-1, parse("--cpus", "-1").cpus); // range checks are the launcher's
        assertEquals("-x --y", parse("--cmdline", "-x --y").cmdline);
        assertEquals("-", parse("--cmdline", "-").cmdline);
        assertEquals("", parse("--cmdline=").cmdline);
        assertEquals(3, parse("--cpus", "+3").cpus);
    }

    @Test
    void flagsTakeTrueOrFalse() {
        assertFalse(parse("--trace-exits=false").traceExits);
        assertTrue(parse("--quiet=TRUE").quiet);
        assertEquals("Invalid value for option '--quiet': 'yes' is not a boolean", error("--quiet=yes"));
    }

    @Test
    void helpAndVersionWinOverUnmatchedArgumentsButNotOverBadValues() {
        assertTrue(parse("-hV").helpRequested);
        assertTrue(parse("-h///").helpRequested);
        assertTrue(parse("--frobnicate", "-V").versionRequested);
        assertTrue(parse("--quiet", "-h").helpRequested);
        assertEquals("Invalid value for option '--cpus': 'x' is not an int", error("--help", "--cpus", "x"));
        assertEquals("option '--help' should be specified only once", error("-hh"));
    }

    @ParameterizedTest
    @CsvSource(delimiterString = " => ", quoteCharacter = '"', value = {
            "--cpus => Missing required parameter for option '--cpus' (N)",
            "--accel => Missing required parameter for option '--accel' (kvm|emulated|auto)",
            "--cpus two => Invalid value for option '--cpus': 'two' is not an int",
            "--cpus 0x10 => Invalid value for option '--cpus': '0x10' is not an int",
            "--cpus 99999999999 => Invalid value for option '--cpus': '99999999999' is not an int",
            "--offline-cpu 1,2 => Invalid value for option '--offline-cpu' (INDEX): '1,2' is not an int",
            "--memory lots => Invalid value for option '--memory': 'lots' is not a size; write it like 256M, 2G or 65536",
            "--memory -5 => Invalid value for option '--memory': '-5' is not a positive size that fits in 64 bits",
            "--timeout 0 => Invalid value for option '--timeout': '0' is not a positive duration; give at least 1ms, like 30s, 500ms or 2m",
            "--timeout 99999999999999999h => Invalid value for option '--timeout': '99999999999999999h' is out of range",
            "--serial file: => Invalid value for option '--serial': 'file:' is not a serial target; use stdio or file:PATH",
            "--accel tcg => Invalid value for option '--accel': unknown accelerator 'tcg'; give kvm, emulated or auto",
            "--cpus 2 --cpus 3 => option '--cpus' (N) should be specified only once",
            "--quiet --quiet => option '--quiet' should be specified only once",
            "--cpus --quiet => Expected parameter for option '--cpus' but found '--quiet'",
            "--cpus -h => Expected parameter for option '--cpus' but found '-h'",
            "--cmdline=--quiet => Expected parameter for option '--cmdline' but found '--quiet'",
            "--cmdline --cpus=3 => Expected parameter for option '--cmdline' but found '--cpus=3'",
            "--frobnicate => Unknown option: '--frobnicate'",
            "--frobnicate=1 => Unknown option: '--frobnicate=1'",
            "-x => Unknown option: '-x'",
            "--cpu 2 --quiet => Unknown options: '--cpu', '2'",
            "--cpus 2 -- --quiet => Unknown option: '--quiet'",
            "- => Unmatched argument at index 0: '-'",
            "--quiet x => Unmatched argument at index 1: 'x'",
            "foo bar => Unmatched arguments from index 0: 'foo', 'bar'",
            "-- foo => Unmatched argument at index 1: 'foo'",
            "-1 => Unmatched argument at index 0: '-1'",
    })
    void errorsNameTheArgument(String commandLine, String message) {
        assertEquals(message, error(commandLine.split(" ")));
    }

    /** Every option the parser takes is in the help, and every option in the help is taken. */
    @Test
    void theHelpListsExactlyTheOptionsTheParserTakes() {
        Matcher m = Pattern.compile("^ {2}(?:-[hV], )? *(--[a-z-]+)", Pattern.MULTILINE).matcher(UsageText.HELP);
        int listed = 0;
        for (; m.find(); listed++) {
            String option = m.group(1);
            boolean flag = option.equals("--trace-exits") || option.equals("--quiet") || option.equals("--help")
                    || option.equals("--version");
            LauncherOptions o = parse(flag ? new String[] {option} : new String[] {option, valueFor(option)});
            assertTrue(o != null, option);
        }
        assertEquals(14, listed, UsageText.HELP);
        assertTrue(UsageText.HELP.contains("vCPUs (1-" + LauncherOptions.MAX_CPUS + "; default 1)"));
        assertTrue(UsageText.version().startsWith("jkvm vmm "));
    }

    private static String valueFor(String option) {
        return switch (option) {
            case "--memory" -> "256M";
            case "--serial" -> "stdio";
            case "--timeout" -> "1s";
            case "--accel" -> "kvm";
            case "--kernel", "--cmdline", "--report" -> "x";
            default -> "1";
        };
    }
}
