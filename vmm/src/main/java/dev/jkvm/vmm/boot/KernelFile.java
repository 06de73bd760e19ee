package dev.jkvm.vmm.boot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Reads a kernel file from the host, treating the path as untrusted: only a regular file is
 * opened (a FIFO would block in open(2) and a device like /dev/zero never ends), and its size is
 * compared with what the VM can hold before a byte is read. Every refusal is one line.
 */
public final class KernelFile {
    private KernelFile() {}

    /** The largest byte array the JVM reliably allocates. */
    public static final long MAX_BYTES = Integer.MAX_VALUE - 8;

    /** stat(2) st_mode file types (POSIX sys/stat.h), as the "unix:mode" attribute gives them. */
    private static final int S_IFMT = 0170000;
    private static final int S_IFIFO = 0010000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFSOCK = 0140000;

    /**
     * The bytes of {@code path}, refused when it is not a readable regular file of at most
     * {@code maxBytes} bytes (the guest's RAM: a larger file cannot be a kernel for this VM).
     *
     * @throws MultibootException with one line naming the cause and the fix
     */
    public static byte[] read(Path path, long maxBytes) {
        String shown = path.toString();
        if (shown.isEmpty()) {
            throw new MultibootException("the kernel path is empty; give the path of a multiboot kernel file");
        }
        BasicFileAttributes attributes = attributes(path);
        if (attributes.isDirectory()) {
            throw new MultibootException("kernel " + shown + " is a directory; give the path of a multiboot kernel file");
        }
        if (!attributes.isRegularFile()) {
            throw new MultibootException("kernel " + shown + " is " + kind(path) + ", not a regular file;"
                    + " copy the kernel into a file and pass that");
        }
        long size = attributes.size();
        long limit = Math.min(maxBytes, MAX_BYTES);
        if (size > limit) {
            String bound = limit == MAX_BYTES ? "the " + MAX_BYTES + " bytes the loader reads"
                    : "the guest's " + (maxBytes >> 20) + " MiB of RAM (--memory)";
            throw new MultibootException("kernel file " + shown + " is " + size + " bytes, more than " + bound
                    + "; it cannot be a kernel for this VM, check the path");
        }
        return readRegular(path, (int) size);
    }

    private static BasicFileAttributes attributes(Path path) {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            if (Files.isSymbolicLink(path)) {
                throw new MultibootException("kernel " + path + " is a symbolic link to a file that does not exist; fix the link");
            }
            // Java reports ENOTDIR (a file used as a directory on the path) as a missing file too.
            for (Path p = path.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
                if (Files.exists(p) && !Files.isDirectory(p)) {
                    throw new MultibootException("kernel file " + path + " cannot exist: " + p + " on its path is a file,"
                            + " not a directory; check the path");
                }
            }
            throw new MultibootException("kernel file " + path + " does not exist; pass --kernel with a multiboot kernel,"
                    + " or omit it to boot the built-in image");
        } catch (AccessDeniedException e) {
            // stat(2) fails with EACCES only for a directory on the path that this user may not search.
            throw new MultibootException("kernel file " + path + " cannot be reached: a directory on its path is not searchable"
                    + " by this user (permission denied); grant search (x) permission on it or copy the kernel elsewhere");
        } catch (FileSystemException e) {
            throw new MultibootException("kernel file " + path + " cannot be examined: " + reason(e)
                    + "; check the path");
        } catch (IOException e) {
            throw new MultibootException("kernel file " + path + " cannot be examined (" + e.getClass().getSimpleName()
                    + "); check the path");
        }
    }

    private static String kind(Path path) {
        int type;
        try {
            type = (Integer) Files.getAttribute(path, "unix:mode") & S_IFMT;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "a special file";
        }
        return switch (type) {
            case S_IFIFO -> "a FIFO (named pipe), which the VMM does not open because reading it can block forever";
            case S_IFCHR -> "a character device";
            case S_IFBLK -> "a block device";
            case S_IFSOCK -> "a socket";
            default -> "a special file";
        };
    }

    private static byte[] readRegular(Path path, int size) {
        // NOFOLLOW is not used: a symbolic link to a regular file is a fine way to name a kernel.
        try (SeekableByteChannel channel = Files.newByteChannel(path, StandardOpenOption.READ)) {
            byte[] bytes = new byte[size];
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                if (channel.read(buffer) < 0) {
                    throw new MultibootException("kernel file " + path + " shrank while it was read (" + buffer.position()
                            + " of " + size + " bytes); do not rewrite the kernel while the VMM starts");
                }
            }
            if (channel.read(ByteBuffer.allocate(1)) > 0) {
                throw new MultibootException("kernel file " + path + " grew while it was read (beyond " + size
                        + " bytes); do not rewrite the kernel while the VMM starts");
            }
            return bytes;
        } catch (AccessDeniedException e) {
            throw new MultibootException("kernel file " + path + " is not readable by this user (permission denied);"
                    + " check its permissions");
        } catch (FileSystemException e) {
            throw new MultibootException("kernel file " + path + " cannot be read: " + reason(e) + "; check the file");
        } catch (IOException e) {
            throw new MultibootException("kernel file " + path + " cannot be read (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + "); check the file");
        }
    }

    private static String reason(FileSystemException e) {
        String reason = e.getReason();
        return reason == null ? e.getClass().getSimpleName() : reason.toLowerCase(java.util.Locale.ROOT);
    }
}
