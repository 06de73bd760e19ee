package dev.jkvm.it.container;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * The host's /dev/kvm as the container's non-root user (uid 10001) sees it. Docker recreates the
 * device node inside the container with the host node's owner, group and mode, so the user gets
 * in through the node's group: the container joins that gid (--group-add), and the node must be
 * group read-write (Debian's udev default is root:kvm 0660).
 */
final class HostKvm {
    static final Path DEVICE = Path.of("/dev/kvm");

    private HostKvm() {}

    /** The gid to add to the container's user; fails naming the fix when the group cannot open it. */
    static int groupId() throws IOException {
        if (!Files.exists(DEVICE)) {
            throw new AssertionError("/dev/kvm does not exist on this host; load the kvm module (modprobe kvm)");
        }
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(DEVICE);
        int gid = (Integer) Files.getAttribute(DEVICE, "unix:gid", LinkOption.NOFOLLOW_LINKS);
        if (!mode.contains(PosixFilePermission.GROUP_READ) || !mode.contains(PosixFilePermission.GROUP_WRITE)) {
            throw new AssertionError("host /dev/kvm (gid " + gid + ") is not group read-write, so the container's"
                    + " non-root user cannot open it; run: groupadd -f kvm && chgrp kvm /dev/kvm && chmod 660"
                    + " /dev/kvm (scripts/test does this)");
        }
        return gid;
    }
}
