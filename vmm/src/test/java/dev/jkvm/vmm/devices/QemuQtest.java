package dev.jkvm.vmm.devices;

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
 * QEMU 7.2 as an independent oracle for device registers: a {@code pc} machine held stopped
 * ({@code -S}, no guest code runs) whose port I/O is driven through the qtest protocol on stdin
 * (QEMU docs/devel/qtest.rst: {@code outb ADDR VAL}, {@code inb ADDR} answered by {@code OK 0x..}).
 */
final class QemuQtest implements PortIo, AutoCloseable {
    private static final String QEMU = "qemu-system-x86_64";

    private final Process process;
    private final Writer commands;
    private final BufferedReader replies;
    private final List<String> irqEvents = new ArrayList<>();

    static boolean available() {
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String dir : path.split(File.pathSeparator)) {
            if (new File(dir, QEMU).canExecute()) return true;
        }
        return false;
    }

    QemuQtest(String... machineOptions) {
        List<String> command = new ArrayList<>(List.of(QEMU, "-machine", "pc", "-S",
                "-qtest", "stdio", "-qtest-log", "none", "-display", "none", "-nodefaults", "-serial", "null"));
        command.addAll(List.of(machineOptions));
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
            while (reply != null && reply.startsWith("IRQ ")) {
                recordIrq(reply);
                reply = replies.readLine();
            }
            if (reply == null || !reply.startsWith("OK")) {
                throw new AssertionError("qtest \"" + line + "\" answered " + reply);
            }
            return reply;
        } catch (IOException e) {
            throw new UncheckedIOException("qtest \"" + line + "\" failed", e);
        }
    }

    /** Reports IOAPIC input changes from now on, as {@link RecordingInterruptLines} does ("4:high"). */
    void interceptIoapicInterrupts() {
        send("irq_intercept_in ioapic");
    }

    /** "IRQ raise 4" / "IRQ lower 4": qtest reports only changes of level. */
    private void recordIrq(String line) {
        String[] words = line.split(" ");
        irqEvents.add(words[2] + (words[1].equals("raise") ? ":high" : ":low"));
    }

    /** The interrupt events since the last call. */
    List<String> drainInterrupts() {
        List<String> copy = List.copyOf(irqEvents);
        irqEvents.clear();
        return copy;
    }

    private static String suffix(int size) {
        return switch (size) {
            case 1 -> "b";
            case 2 -> "w";
            case 4 -> "l";
            default -> throw new IllegalArgumentException("port access size " + size);
        };
    }

    @Override
    public int in(int port, int size) {
        String reply = send("in" + suffix(size) + " 0x" + Integer.toHexString(port));
        return (int) Long.parseLong(reply.substring("OK 0x".length()), 16);
    }

    @Override
    public void out(int port, int size, int value) {
        send("out" + suffix(size) + " 0x" + Integer.toHexString(port) + " 0x" + Integer.toHexString(value));
    }

    /**
     * Sends an {@code out} that ends QEMU (isa-debug-exit) and returns QEMU's exit status; the
     * write gets no reply because the process is gone.
     */
    int outAndAwaitExit(int port, int size, int value) throws InterruptedException {
        try {
            commands.write("out" + suffix(size) + " 0x" + Integer.toHexString(port) + " 0x" + Integer.toHexString(value) + "\n");
            commands.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("qtest write failed", e);
        }
        if (!process.waitFor(30, TimeUnit.SECONDS)) throw new AssertionError("QEMU did not exit after the debug-exit write");
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
    }
}
