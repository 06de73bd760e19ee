package dev.jkvm.vmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jkvm.vmm.api.ExitStatus;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kind of path a user (or a script) may pass as --kernel that is not a kernel file gets one
 * true line and status 2, before anything is read that could not be a kernel: nothing hangs on a
 * FIFO, nothing reads /dev/zero until memory runs out, nothing allocates a 3 GiB array.
 */
class KernelPathTest {
    @TempDir
    Path dir;

    private record Run(int status, String stderr) {}

    private static Run launch(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Launcher.run(args, new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, err.toString(StandardCharsets.UTF_8));
    }

    private static void assertOneLineError(Run run, String... mustContain) {
        assertEquals(ExitStatus.USAGE, run.status(), run.stderr());
        String[] lines = run.stderr().strip().split("\n");
        assertEquals(1, lines.length, "expected one line, got:\n" + run.stderr());
        assertTrue(lines[0].startsWith("error: "), lines[0]);
        assertFalse(run.stderr().contains("\tat ") || run.stderr().contains("Exception"), "stack trace or raw exception:\n" + run.stderr());
        for (String s : mustContain) assertTrue(lines[0].contains(s), "'" + s + "' missing in: " + lines[0]);
    }

    @Test
    void emptyPath() {
        assertOneLineError(launch("--kernel", ""), "the kernel path is empty");
    }

    @Test
    void fifoIsRefusedWithoutOpeningIt() throws Exception {
        Path fifo = dir.resolve("kernel.fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        // Nobody writes to the FIFO: opening it for reading would block this test forever.
        assertOneLineError(launch("--kernel", fifo.toString()), "kernel.fifo is a FIFO (named pipe)", "not a regular file");
    }

    @Test
    void characterDevices() {
        for (String device : List.of("/dev/zero", "/dev/urandom", "/dev/null")) {
            assertOneLineError(launch("--kernel", device), device + " is a character device, not a regular file");
        }
    }

    @Test
    void fileLargerThanGuestRamIsNotRead() throws Exception {
        Path big = dir.resolve("big.elf");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(3L << 30); // sparse: costs no disk
        }
        assertOneLineError(launch("--kernel", big.toString()), "big.elf is 3221225472 bytes, more than the guest's 256 MiB of RAM");
        // More RAM than a Java array holds: the loader's own bound applies (the launcher first
        // refuses --memory beyond the host's RAM, so this half needs a host with 2200M).
        assumeTrue(HostChecks.hostMemory() >= 2200L << 20, "the host has less than 2200M of RAM");
        assertOneLineError(launch("--memory", "2200M", "--kernel", big.toString()), "more than the 2147483639 bytes the loader reads");
    }

    @Test
    void danglingSymbolicLink() throws Exception {
        Path link = Files.createSymbolicLink(dir.resolve("k.elf"), dir.resolve("gone.elf"));
        assertOneLineError(launch("--kernel", link.toString()), "symbolic link to a file that does not exist");
    }

    @Test
    void pathThroughAFile() throws Exception {
        Path file = Files.write(dir.resolve("plain"), new byte[16]);
        assertOneLineError(launch("--kernel", file.resolve("k.elf").toString()), "cannot exist: " + file + " on its path is a file, not a directory");
    }

    @Test
    void kernelRefusedForPlacementBeforeKvmIsTouched() throws Exception {
        // A file of 4 KiB whose a.out-kludge header puts it at 0xC0000000 (the PCI hole).
        byte[] image = new byte[4096];
        int flags = 0x10003;
        int[] header = {0x1BADB002, flags, -(0x1BADB002 + flags), 0xC0000000, 0xC0000000, 0, 0, 0xC0000020};
        for (int i = 0; i < header.length; i++) {
            for (int b = 0; b < 4; b++) image[i * 4 + b] = (byte) (header[i] >>> (8 * b));
        }
        Path kernel = Files.write(dir.resolve("hole.bin"), image);
        String[] args = {"--kernel", kernel.toString()};
        // On a host with /dev/kvm, the verdict must not depend on it: where this machine's
        // without-kvm helper exists (a mount namespace whose /dev lacks kvm), run there too.
        Path withoutKvm = Path.of("/usr/local/bin/without-kvm");
        List<Run> runs = new ArrayList<>(List.of(launch(args)));
        if (Files.isExecutable(withoutKvm) && Files.exists(Path.of("/dev/kvm"))) {
            runs.add(launchChild(List.of(withoutKvm.toString()), System.getProperty("java.class.path"), args));
        }
        for (Run run : runs) {
            assertOneLineError(run, "a.out-kludge image [0xc0000000, 0xc0001000)", "overlaps the PCI/MMIO hole");
        }
    }

    @Test
    void controlCharactersInQuotedInputStayOnOneLine() {
        assertOneLineError(launch("--cpus", "1\n2"), "'1\\n2'");
        assertOneLineError(launch("--kernel", dir.resolve("a\nb.elf").toString()), "a\\nb.elf does not exist");
    }

    /** Permission checks do not apply to root, so these run the launcher as user nobody. */
    @Test
    void unsearchableDirectoryAndUnreadableFile() throws Exception {
        Path shared = Files.createTempDirectory(Path.of("/tmp"), "jkvm-perm");
        try {
            Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path locked = Files.createDirectory(shared.resolve("locked"));
            Files.write(locked.resolve("k.elf"), new byte[64]);
            Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rw-rw-rw-"));
            Path secret = Files.write(shared.resolve("secret.elf"), new byte[64]);
            Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("-w--w--w-"));

            Run unsearchable = launchAsNobody(shared, "--kernel", locked.resolve("k.elf").toString());
            assertOneLineError(unsearchable, "cannot be reached: a directory on its path is not searchable");
            assertFalse(unsearchable.stderr().contains("does not exist"), unsearchable.stderr());
            assertOneLineError(launchAsNobody(shared, "--kernel", secret.toString()), "secret.elf is not readable by this user");
        } finally {
            try (Stream<Path> all = Files.walk(shared)) {
                for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
                    Files.delete(p);
                }
            }
        }
    }

    private static boolean isRoot() throws IOException, InterruptedException {
        Process id = new ProcessBuilder("id", "-u").start();
        String uid = new String(id.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        id.waitFor();
        return uid.equals("0");
    }

    /**
     * As root, the launcher runs in a child JVM under setpriv as uid/gid 65534 (nobody), from a
     * world-readable copy of its class path; otherwise in this JVM, which already lacks the rights.
     */
    private static Run launchAsNobody(Path shared, String... args) throws Exception {
        if (!isRoot()) return launch(args);
        Path classpath = shared.resolve("cp");
        List<String> entries = new ArrayList<>();
        int n = 0;
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path from = Path.of(entry);
            boolean wanted = (Files.isDirectory(from) && from.endsWith(Path.of("vmm", "target", "classes")));
            if (!wanted) continue;
            Path to = classpath.resolve("e" + n++);
            copy(from, to);
            entries.add(to.toString());
        }
        try (Stream<Path> all = Files.walk(classpath)) {
            for (Path p : all.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        return launchChild(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"),
                String.join(java.io.File.pathSeparator, entries), args);
    }

    /** The launcher in a child JVM started through {@code prefix} (e.g. setpriv), status and standard error. */
    private static Run launchChild(List<String> prefix, String classpath, String... args) throws Exception {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:-UsePerfData",
                "--enable-native-access=ALL-UNNAMED", "-cp", classpath, Launcher.class.getName()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(p.waitFor(), stderr);
    }

    private static void copy(Path from, Path to) throws IOException {
        if (!Files.isDirectory(from)) {
            Files.createDirectories(to.getParent());
            Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
            return;
        }
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
