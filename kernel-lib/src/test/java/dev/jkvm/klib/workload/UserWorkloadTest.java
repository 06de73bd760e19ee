package dev.jkvm.klib.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.klib.image.KernelImage;
import dev.jkvm.klib.kernel.build.SmpKernelImage;
import dev.jkvm.klib.kernel.proc.WorkloadDescriptor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The user-workload API on the host: signature checks, the host's expected answer against a
 * closed form, the descriptor the image carries, and the one-line errors for code ring 3 cannot run.
 */
class UserWorkloadTest {

    @Test
    void hostResultSumsTheMethodOverEveryIndex() {
        int tasks = 300;
        UserWorkload w = UserWorkload.of(SquaresWorkload.class, "task", tasks);
        long n = tasks;
        assertEquals((n - 1) * n * (2 * n - 1) / 6, w.hostResult(), "sum of squares 0..n-1");
        assertEquals("sum of SquaresWorkload.task(0..299)", w.description());
    }

    @Test
    void theImageCarriesTheTaskCountTheExpectedSumAndTheDescription() {
        UserWorkload w = UserWorkload.of(SquaresWorkload.class, "task", 7).named("squares below 7");
        KernelImage image = SmpKernelImage.builder().workload(w).build();
        ByteBuffer b = ByteBuffer.wrap(image.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        int table = (int) (image.symbols().get("kernel_workload_table") - image.loadAddress());
        assertEquals(7, b.getLong(table + 8 * WorkloadDescriptor.TASKS));
        assertEquals(0 + 1 + 4 + 9 + 16 + 25 + 36, b.getLong(table + 8 * WorkloadDescriptor.EXPECTED));
        assertEquals(0, b.getLong(table + 8 * WorkloadDescriptor.FLAGS), "no scheduler checks in a user image");
        int text = (int) (b.getLong(table + 8 * WorkloadDescriptor.DESCRIPTION) - image.loadAddress());
        byte[] expected = "squares below 7\0".getBytes(StandardCharsets.US_ASCII);
        byte[] actual = new byte[expected.length];
        b.get(text, actual);
        assertEquals(new String(expected, StandardCharsets.US_ASCII), new String(actual, StandardCharsets.US_ASCII));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "floatingPoint | uses float or double arithmetic",
        "printsHex     | calls the kernel routine klib_console_print_hex",
        "perCpu        | not @PerCpu ones",
        "callsKernelCode | calls the kernel's method dev.jkvm.klib.kernel.mm.BootAllocator.alignUp(JJ)J",
    })
    void codeRingThreeCannotRunFailsTheBuildWithOneLineNamingTheMethod(String method, String cause) {
        UserWorkload w = UserWorkload.of(OutsideSubsetWorkloads.class, method, 2);
        WorkloadException e = assertThrows(WorkloadException.class, () -> SmpKernelImage.builder().workload(w).build());
        assertOneLine(e.getMessage(), OutsideSubsetWorkloads.class.getName() + "." + method, cause);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "wrongSignature | has the wrong signature static int wrongSignature(int): declare it static long wrongSignature(long index)",
        "notStatic      | has the wrong signature long notStatic(long): declare it static long notStatic(long index)",
        "missing        | does not exist: declare static long missing(long index)",
    })
    void aMethodWithoutTheWorkloadSignatureIsRefused(String method, String cause) {
        WorkloadException e = assertThrows(WorkloadException.class,
                () -> UserWorkload.of(OutsideSubsetWorkloads.class, method, 2));
        assertOneLine(e.getMessage(), OutsideSubsetWorkloads.class.getName() + "." + method, cause);
    }

    @Test
    void taskCountsOutsideTheRangeAreRefused() {
        assertThrows(WorkloadException.class, () -> UserWorkload.of(SquaresWorkload.class, "task", 0));
        assertThrows(WorkloadException.class,
                () -> UserWorkload.of(SquaresWorkload.class, "task", UserWorkload.MAX_TASKS + 1));
        assertThrows(WorkloadException.class, () -> UserWorkload.of(SquaresWorkload.class, "task", 1).named("two\nlines"));
    }

    private static void assertOneLine(String message, String method, String cause) {
        assertFalse(message.contains("\n"), message);
        assertTrue(message.contains(method), () -> "names " + method + ": " + message);
        assertTrue(message.contains(cause), () -> "says \"" + cause + "\": " + message);
    }
}
