package dev.jkvm.vmm.emulated.irq;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * QEMU 7.2's {@code pc} machine as an oracle for the interrupt controllers and the PIT: held
 * stopped ({@code -S}: no guest code runs and the virtual clock stands still), its port I/O and
 * physical memory driven through the qtest protocol on stdin (QEMU docs/devel/qtest.rst:
 * {@code outb}, {@code inb}, {@code readl}, {@code writel}). The I/O APIC is configured as
 * version 0x11, the one KVM models. Debian's QEMU has no qtest accelerator, so
 * {@code clock_step} is unavailable: comparisons are at one guest instant.
 */
final class QtestMachine implements AutoCloseable {
    private static final String QEMU = "qemu-system-x86_64";

    private final Process process;
    private final Writer commands;
    private final BufferedReader replies;

    static boolean available() {
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String dir : path.split(File.pathSeparator)) {
            if (new File(dir, QEMU).canExecute()) return true;
        }
        return false;
    }

    QtestMachine() {
        List<String> command = new ArrayList<>(List.of(QEMU, "-machine", "pc", "-S", "-qtest", "stdio",
                "-qtest-log", "none", "-display", "none", "-nodefaults", "-serial", "null",
                "-global", "ioapic.version=0x11"));
        try {
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + QEMU + "; install the qemu-system-x86 package", e);
        }
        commands = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.US_ASCII);
        replies = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII));
    }

    private String send(String line) {
        try {
            commands.write(line + "\n");
            commands.flush();
            String reply = replies.readLine();
            while (reply != null && reply.startsWith("IRQ ")) reply = replies.readLine();
            if (reply == null || !reply.startsWith("OK")) throw new AssertionError("qtest \"" + line + "\" answered " + reply);
            return reply;
        } catch (IOException e) {
            throw new UncheckedIOException("qtest \"" + line + "\" failed", e);
        }
    }

    private static long value(String reply) {
        return Long.parseUnsignedLong(reply.substring("OK 0x".length()), 16);
    }

    int inb(int port) { return (int) value(send("inb 0x" + Integer.toHexString(port))); }

    void outb(int port, int value) { send("outb 0x" + Integer.toHexString(port) + " 0x" + Integer.toHexString(value & 0xFF)); }

    long readl(long address) { return value(send("readl 0x" + Long.toHexString(address))); }

    void writel(long address, long value) { send("writel 0x" + Long.toHexString(address) + " 0x" + Long.toHexString(value & 0xFFFF_FFFFL)); }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
    }
}
