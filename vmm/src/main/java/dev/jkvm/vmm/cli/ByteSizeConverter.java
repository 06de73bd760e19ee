package dev.jkvm.vmm.cli;

/** Parses sizes such as {@code 256M}, {@code 2G}, {@code 65536} (bytes) or {@code 512K}. */
public final class ByteSizeConverter {
    private ByteSizeConverter() {}

    /** The size in bytes; IllegalArgumentException says how to write one. */
    public static long parse(String text) {
        String t = text.trim().toUpperCase(java.util.Locale.ROOT);
        if (t.endsWith("IB")) t = t.substring(0, t.length() - 2);
        else if (t.endsWith("B") && t.length() > 1 && !Character.isDigit(t.charAt(t.length() - 2))) t = t.substring(0, t.length() - 1);
        int shift = 0;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'K' -> shift = 10;
                case 'M' -> shift = 20;
                case 'G' -> shift = 30;
                case 'T' -> shift = 40;
                default -> shift = -1;
            }
            if (shift >= 0) t = t.substring(0, t.length() - 1);
            else shift = 0;
        }
        long value;
        try {
            value = Long.parseLong(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a size; write it like 256M, 2G or 65536");
        }
        if (value <= 0 || value > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("'" + text + "' is not a positive size that fits in 64 bits");
        }
        return value << shift;
    }
}
