package dev.jkvm.klib.image;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The Multiboot 0.6.96 header (§3.1.1) with the address fields of §3.1.3, so a loader can place
 * the image without parsing ELF (QEMU's {@code -kernel} does exactly that when flag bit 16 is set).
 */
final class MultibootHeader {
    static final int MAGIC = 0x1BADB002;
    /** Bit 0: page-align modules; bit 1: provide memory information; bit 16: address fields valid (§3.1.2). */
    static final int FLAGS = (1 << 0) | (1 << 1) | (1 << 16);
    static final int SIZE = 32;
    /** The header must lie entirely within the first 8192 bytes of the file, 32-bit aligned (§3.1). */
    static final int SEARCH_LIMIT = 8192;

    private MultibootHeader() {
    }

    static byte[] encode(long headerAddr, long loadAddr, long loadEndAddr, long bssEndAddr, long entryAddr) {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC);
        b.putInt(FLAGS);
        b.putInt(-(MAGIC + FLAGS));
        b.putInt((int) headerAddr);
        b.putInt((int) loadAddr);
        b.putInt((int) loadEndAddr);
        b.putInt((int) bssEndAddr);
        b.putInt((int) entryAddr);
        return b.array();
    }
}
