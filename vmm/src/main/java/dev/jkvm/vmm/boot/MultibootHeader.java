package dev.jkvm.vmm.boot;

import static dev.jkvm.vmm.boot.ImageBytes.hex;
import static dev.jkvm.vmm.boot.ImageBytes.s32;
import static dev.jkvm.vmm.boot.ImageBytes.u32;

import java.util.ArrayList;
import java.util.List;

/**
 * The Multiboot header of a kernel image (Multiboot 0.6.96 §3.1).
 *
 * @param fileOffset where the magic sits in the file
 * @param flags      the header's flags word (§3.1.2)
 * @param headerAddr the address fields of §3.1.3, valid only when {@link #hasAddressFields()}
 */
public record MultibootHeader(int fileOffset, int flags, long headerAddr, long loadAddr, long loadEndAddr,
                              long bssEndAddr, long entryAddr) {
    /** §3.1.2 "magic". */
    public static final int MAGIC = 0x1BADB002;
    /** §3.1.1: the header must lie completely within the first 8192 bytes, 32-bit aligned. */
    public static final int SEARCH_LIMIT = 8192;

    /** §3.1.2 flag bits. Bits 0–15 are requirements: a loader that cannot honour one must refuse. */
    public static final int FLAG_PAGE_ALIGN_MODULES = 1;
    public static final int FLAG_MEMORY_INFO = 1 << 1;
    public static final int FLAG_VIDEO_MODE = 1 << 2;
    public static final int FLAG_ADDRESS_FIELDS = 1 << 16;

    /**
     * Requirements this loader honours: module alignment (it loads no modules), memory information
     * (always supplied), video mode (a preference; the spec lets the loader pick any mode, and a
     * VM without a display leaves the VBE/framebuffer info out, §3.3 flags bits 11–12).
     */
    private static final int HONOURED_REQUIREMENTS = FLAG_PAGE_ALIGN_MODULES | FLAG_MEMORY_INFO | FLAG_VIDEO_MODE;
    private static final int REQUIREMENT_BITS = 0xFFFF;

    private static final int MINIMAL_SIZE = 12;
    private static final int WITH_ADDRESSES_SIZE = 32;

    public boolean hasAddressFields() { return (flags & FLAG_ADDRESS_FIELDS) != 0; }
    public boolean wantsMemoryInfo() { return (flags & FLAG_MEMORY_INFO) != 0; }

    /** Finds and validates the header of {@code image}; {@code name} only appears in messages. */
    public static MultibootHeader find(String name, byte[] image) {
        int limit = Math.min(image.length, SEARCH_LIMIT);
        int firstBadChecksum = -1;
        for (int at = 0; at + MINIMAL_SIZE <= limit; at += 4) {
            if (s32(image, at) != MAGIC) continue;
            if (checksumHolds(image, at)) return parse(name, image, at);
            if (firstBadChecksum < 0) firstBadChecksum = at;
        }
        if (firstBadChecksum >= 0) {
            int flags = s32(image, firstBadChecksum + 4);
            int checksum = s32(image, firstBadChecksum + 8);
            throw new MultibootException(name + ": multiboot header at file offset " + hex(firstBadChecksum)
                    + " has a bad checksum " + hex(Integer.toUnsignedLong(checksum)) + " (magic+flags+checksum must be 0 mod 2^32,"
                    + " so it should be " + hex(Integer.toUnsignedLong(-(MAGIC + flags))) + "; Multiboot 0.6.96 §3.1.2); fix the checksum");
        }
        int late = findLateHeader(image);
        if (late >= 0) {
            throw new MultibootException(name + ": multiboot header found at file offset " + hex(late)
                    + ", beyond the first 8 KiB where the loader must find it (Multiboot 0.6.96 §3.1.1);"
                    + " place the header section first in the linker script");
        }
        throw new MultibootException(name + ": no multiboot header (magic 0x1badb002) in the first 8 KiB"
                + " (Multiboot 0.6.96 §3.1.1); add one to the kernel or check that this is the right file");
    }

    private static boolean checksumHolds(byte[] image, int at) {
        return MAGIC + s32(image, at + 4) + s32(image, at + 8) == 0;
    }

    private static int findLateHeader(byte[] image) {
        for (int at = SEARCH_LIMIT; at + MINIMAL_SIZE <= image.length; at += 4) {
            if (s32(image, at) == MAGIC && checksumHolds(image, at)) return at;
        }
        return -1;
    }

    private static MultibootHeader parse(String name, byte[] image, int at) {
        int flags = s32(image, at + 4);
        int unknown = flags & REQUIREMENT_BITS & ~HONOURED_REQUIREMENTS;
        if (unknown != 0) {
            throw new MultibootException(name + ": the multiboot header requires features this loader does not provide:"
                    + " flag bits " + bitList(unknown) + " (bits 0-15 are mandatory, Multiboot 0.6.96 §3.1.2);"
                    + " clear them in the kernel's header flags");
        }
        if ((flags & FLAG_ADDRESS_FIELDS) == 0) return new MultibootHeader(at, flags, 0, 0, 0, 0, 0);
        if (at + WITH_ADDRESSES_SIZE > SEARCH_LIMIT) {
            throw new MultibootException(name + ": the multiboot address fields (flag bit 16) at file offset " + hex(at)
                    + " extend beyond the first 8 KiB (Multiboot 0.6.96 §3.1.1); move the header towards the file start");
        }
        if (at + WITH_ADDRESSES_SIZE > image.length) {
            throw new MultibootException(name + ": the multiboot address fields (flag bit 16) at file offset " + hex(at)
                    + " extend beyond the end of the file (" + image.length + " bytes); the kernel image is truncated");
        }
        return new MultibootHeader(at, flags, u32(image, at + 12), u32(image, at + 16), u32(image, at + 20),
                u32(image, at + 24), u32(image, at + 28));
    }

    private static String bitList(int bits) {
        List<Integer> list = new ArrayList<>();
        for (int b = 0; b < 32; b++) if ((bits & 1 << b) != 0) list.add(b);
        return list.toString();
    }
}
