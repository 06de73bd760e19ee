package dev.jkvm.klib.kernel.acpi;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** An MADT split into its 44-byte header and entries, for building broken variants. */
record MadtBytes(byte[] header, List<byte[]> entries) {
    static final int HEADER = 44;

    static MadtBytes split(byte[] madt) {
        List<byte[]> entries = new ArrayList<>();
        for (int at = HEADER; at < madt.length; at += madt[at + 1] & 0xFF) {
            entries.add(Arrays.copyOfRange(madt, at, at + (madt[at + 1] & 0xFF)));
        }
        return new MadtBytes(Arrays.copyOf(madt, HEADER), entries);
    }

    /** Index of the n-th (from 0) entry of this type. */
    int indexOf(int type, int n) {
        for (int i = 0; i < entries.size(); i++) {
            if ((entries.get(i)[0] & 0xFF) == type && n-- == 0) {
                return i;
            }
        }
        throw new IllegalArgumentException("no entry " + n + " of type " + type);
    }

    /** Offset of entry i from the start of the table. */
    int offsetOf(int i) {
        int at = HEADER;
        for (int k = 0; k < i; k++) {
            at += entries.get(k).length;
        }
        return at;
    }

    MadtBytes with(int i, byte[] entry) {
        List<byte[]> copy = new ArrayList<>(entries);
        copy.set(i, entry);
        return new MadtBytes(header, copy);
    }

    /** The table with header length and checksum made consistent with its bytes. */
    byte[] sealed() {
        return PhysicalImage.sealed(raw());
    }

    byte[] raw() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header);
        entries.forEach(out::writeBytes);
        return out.toByteArray();
    }
}
